import path from 'node:path';
import { closeSync, openSync } from 'node:fs';
import type { ContentMemo } from '../tree/content-memo.js';
import { readHead, type Content, type FileTree, type TreeEntry } from '../tree/types.js';
import { ELF_MAGIC, ElfError, ET_DYN, ET_EXEC, fileSource, isElf, parseElf, PT_LOAD, type ElfFile } from './read.js';

export interface ElfObject {
  path: string;
  elf: ElfFile;
}

/** A shared library's name: `libfoo.so`, `libfoo.so.1.2`, a module's `foo.so`. */
const SHARED_LIBRARY = /\.so(\.\d+)*$/;
/** A program's place: what is run there must be an ELF file or a script. */
const PROGRAM_DIR = /\/(s?bin|libexec)\/[^/]+$/;
/**
 * A linker script in place of a development library (`libc.so`: `GROUP ( … )`), after any C
 * comments. A comment's body holds no `*` + `/`: the earlier lazy `[\s\S]*?` could also end a
 * comment at any later one, so a head of many comments and no command backtracked exponentially
 * (a text file named libfoo.so could hang the build; relocating texlive hung on it).
 */
const LINKER_SCRIPT = /^\s*(?:\/\*(?:[^*]|\*+[^*/])*\*+\/\s*)*(INPUT|GROUP|OUTPUT_FORMAT|SEARCH_DIR)\s*\(/;

const isText = (buf: Buffer) => !buf.subarray(0, 4096).includes(0);

/** What a file's bytes are, whatever its name: what readElfEntry decides from, computed once per content. */
type Probe = { elf: ElfFile } | { broken: string } | { other: { text: boolean; linkerScript: boolean } };

/**
 * The bytes' verdict: an ELF object, a broken one (empty, truncated, malformed: a loader or
 * execve would refuse it), or something else, with what tells a script or linker script from
 * data. Reads only the head, then the parts parseElf looks at (headers, the dynamic section and
 * its strings): a data file may be gigabytes, and so may a file that only starts like ELF.
 */
function probe(content: Content, size: number): Probe {
  const head = readHead(content, 4096);
  const magic = ELF_MAGIC.subarray(0, Math.min(4, head.length));
  if (head.subarray(0, 4).equals(magic)) {
    if (!isElf(head)) return { broken: `truncated: ${size} bytes, shorter than an ELF header` };
    let elf: ElfFile;
    const fd = content.kind === 'file' ? openSync(content.hostPath, 'r') : undefined;
    try {
      elf = parseElf(fd === undefined ? (content as { data: Buffer }).data : fileSource(fd, size));
    } catch (err) {
      if (err instanceof ElfError) return { broken: /^truncated/.test(err.message) ? `truncated: ${size} bytes (${err.message})` : `a malformed ELF file (${err.message})` };
      throw err;
    } finally {
      if (fd !== undefined) closeSync(fd);
    }
    // what the kernel and the loader map must be in the file: a cut-off copy fails at run time
    const loads = elf.segments.filter((s) => s.type === PT_LOAD);
    const end = Math.max(0, ...loads.map((s) => s.offset + s.filesz));
    if (end > size) return { broken: `truncated: ${size} bytes, its loadable segments end at byte ${end}` };
    if (loads.length === 0 && (elf.type === ET_EXEC || elf.type === ET_DYN)) return { broken: 'a malformed ELF file (a program or library with no loadable segment)' };
    return { elf };
  }
  const text = isText(head);
  return { other: { text, linkerScript: text && LINKER_SCRIPT.test(head.toString('latin1')) } };
}

/**
 * An entry's ELF object; or, for a file that must be one and is not a readable one, why; or
 * undefined for every other file. What must be ELF: whatever starts with ELF's magic, a file
 * named as a shared library (unless a linker script), and an executable in a bin or libexec
 * directory (unless a script, or text). Empty, truncated and malformed ones all land here: a
 * loader or execve would refuse them at run time, so the build says so instead of shipping them
 * silently. With a memo, each content is read and parsed once for all its names (content-memo.ts).
 */
export function readElfEntry(e: TreeEntry, memo?: ContentMemo): { elf: ElfFile } | { broken: string } | undefined {
  if (e.kind !== 'file') return undefined;
  const library = SHARED_LIBRARY.test(e.path);
  const program = PROGRAM_DIR.test(e.path) && (e.mode & 0o111) !== 0;
  if (e.size === 0) return library || program ? { broken: `empty (0 bytes), where ${library ? 'a shared library' : 'a program'} is expected` } : undefined;
  const r = memo ? memo.get(e.content, 'elf', () => probe(e.content, e.size)) : probe(e.content, e.size);
  if (!('other' in r)) return r;
  if (library && !r.other.linkerScript) return { broken: `not an ELF file (${e.size} bytes), where a shared library is expected` };
  if (program && !r.other.text) return { broken: `neither an ELF file nor a script (${e.size} bytes), where a program is expected` };
  return undefined;
}

/** Every ELF file of a tree, parsed once; files that must be ELF and are not readable ones are reported, not fatal. */
export function elfObjects(tree: FileTree, onBroken?: (p: string, why: string) => void, memo?: ContentMemo): Map<string, ElfObject> {
  const out = new Map<string, ElfObject>();
  for (const e of tree.values()) {
    const r = readElfEntry(e, memo);
    if (r && 'elf' in r) out.set(e.path, { path: e.path, elf: r.elf });
    else if (r) onBroken?.(e.path, r.broken);
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
