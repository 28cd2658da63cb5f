import path from 'node:path';
import { closeSync, fstatSync, openSync } from 'node:fs';
import { readHead, type FileTree } from '../tree/types.js';
import { ElfError, fileSource, isElf, parseElf, type ElfFile } from './read.js';

export interface ElfObject {
  path: string;
  elf: ElfFile;
}

/** Every ELF file of a tree, parsed once; files that only look like ELF are reported, not fatal. */
export function elfObjects(tree: FileTree, onBroken?: (p: string, why: string) => void): Map<string, ElfObject> {
  const out = new Map<string, ElfObject>();
  for (const e of tree.values()) {
    // only the parts parseElf looks at are read (headers, the dynamic section and its strings):
    // a data file may be gigabytes, and so may a file that only starts like ELF
    if (e.kind !== 'file' || e.size < 52 || !isElf(readHead(e.content, 64))) continue;
    const fd = e.content.kind === 'file' ? openSync(e.content.hostPath, 'r') : undefined;
    try {
      const src = fd === undefined ? (e.content as { data: Buffer }).data : fileSource(fd, fstatSync(fd).size);
      out.set(e.path, { path: e.path, elf: parseElf(src) });
    } catch (err) {
      if (err instanceof ElfError) onBroken?.(e.path, err.message);
      else throw err;
    } finally {
      if (fd !== undefined) closeSync(fd);
    }
  }
  return out;
}

/** The directories an object's DT_RUNPATH/DT_RPATH names, with $ORIGIN expanded. */
export function searchDirs(obj: ElfObject): string[] {
  const dyn = obj.elf.dynamic;
  const spec = dyn?.runpath?.value ?? dyn?.rpath?.value ?? '';
  const origin = path.posix.dirname(obj.path);
  return spec
    .split(':')
    .filter(Boolean)
    .map((d) => path.posix.normalize(d.replace(/\$(ORIGIN|\{ORIGIN\})/g, origin)).replace(/\/+$/, ''));
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
