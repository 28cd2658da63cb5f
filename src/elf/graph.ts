import path from 'node:path';
import { readContent, readHead, type FileTree } from '../tree/types.js';
import { ElfError, isElf, parseElf, type ElfFile } from './read.js';

export interface ElfObject {
  path: string;
  elf: ElfFile;
}

/** Every ELF file of a tree, parsed once; files that only look like ELF are reported, not fatal. */
export function elfObjects(tree: FileTree, onBroken?: (p: string, why: string) => void): Map<string, ElfObject> {
  const out = new Map<string, ElfObject>();
  for (const e of tree.values()) {
    // only ELF files are read whole: a data file may be gigabytes
    if (e.kind !== 'file' || e.size < 52 || !isElf(readHead(e.content, 64))) continue;
    const buf = readContent(e.content);
    try {
      out.set(e.path, { path: e.path, elf: parseElf(buf) });
    } catch (err) {
      if (err instanceof ElfError) onBroken?.(e.path, err.message);
      else throw err;
    }
  }
  return out;
}

/**
 * What a soname resolves to in the layer's library directory: a library file there whose name or
 * DT_SONAME is that soname (symlinks named for the soname count too).
 */
export function sonameIndex(tree: FileTree, objects: Map<string, ElfObject>, libDirs: readonly string[]): Map<string, string> {
  const idx = new Map<string, string>();
  for (const e of tree.values()) {
    if (e.kind === 'dir') continue;
    if (!libDirs.includes(path.posix.dirname(e.path))) continue;
    idx.set(path.posix.basename(e.path), e.path);
  }
  for (const o of objects.values()) {
    const so = o.elf.dynamic?.soname;
    if (so && libDirs.includes(path.posix.dirname(o.path)) && !idx.has(so)) idx.set(so, o.path);
  }
  return idx;
}

/** The sonames a file loads, directly or through the layer's own libraries (breadth first). */
export function neededClosure(start: string, objects: Map<string, ElfObject>, sonames: Map<string, string>, follow: (p: string) => string | undefined): Set<string> {
  const seen = new Set<string>();
  const queue = [start];
  const visitedFiles = new Set<string>();
  while (queue.length) {
    const p = queue.shift()!;
    const real = follow(p) ?? p;
    if (visitedFiles.has(real)) continue;
    visitedFiles.add(real);
    for (const n of objects.get(real)?.elf.dynamic?.needed ?? []) {
      if (seen.has(n)) continue;
      seen.add(n);
      const lib = sonames.get(n);
      if (lib) queue.push(lib);
    }
  }
  return seen;
}
