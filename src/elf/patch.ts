import path from 'node:path';
/**
 * In-place edits of ELF files: nothing moves, no section grows, so the edits cannot corrupt the
 * layout the way section surgery can (patchelf's history). Pure: each function takes the file's
 * bytes and returns new bytes, or says why it could not.
 */
import { dynstrOwnsString, dynstrReferences } from './dynstr.js';
import { DT_DEBUG, DT_NULL, DT_RPATH, DT_STRSZ, PT_DYNAMIC, PT_INTERP, PT_LOAD, parseElf, type ElfFile, type ElfSection } from './read.js';

const SHF_ALLOC = 0x2;
const SHF_EXECINSTR = 0x4;
const SHT_PROGBITS = 1;
const PF_X = 0x1;

/** A NUL-terminated string found in the file, with its file offset. */
export interface FoundString {
  offset: number;
  value: string;
}

/**
 * Sections that can hold string constants a program uses at run time: loaded, not code, plain
 * data (.rodata, .rodata.str1.1, .data, .data.rel.ro, …). .interp and .dynstr are handled apart.
 */
export function stringSections(elf: ElfFile): ElfSection[] {
  return elf.sections.filter(
    (s) =>
      s.type === SHT_PROGBITS &&
      (s.flags & SHF_ALLOC) !== 0 &&
      (s.flags & SHF_EXECINSTR) === 0 &&
      s.name !== '.interp' &&
      !s.name.startsWith('.eh_frame') &&
      s.name !== '.gcc_except_table' &&
      !s.name.startsWith('.got'),
  );
}

/**
 * Absolute paths under the roots packages install into, anywhere inside a string constant; also
 * the path of a `file://` URL (`file:///usr/share/hunspell`), which LibreOffice spells its
 * directories with. A comma may be part of a path, but not one that starts another: kpathsea
 * keeps its search path for texmf.cnf as a brace list, `{/etc/texmf/web2c,/usr/share/…/web2c}`,
 * each element a path of its own.
 *
 * The slash comes first and the test of what precedes it after (a lookbehind over the slash):
 * the same matches as testing before the slash, but the engine now looks for a `/` and tests
 * only there, instead of running the lookbehinds at every byte: 25 times faster over the string
 * sections of ghostscript, imagemagick and poppler (issue 24).
 */
export const PATH_IN_BINARY = /\/(?<=(?:file:\/\/|^|[^A-Za-z0-9_.\-/])\/)(?:usr|etc|var)\/(?:[A-Za-z0-9_.+@=\-/]|,(?!\/))*/g;

/** A string section decoded as latin1: one character per byte, so an index in `text` plus `offset` is a file offset. */
export interface DecodedSection {
  offset: number;
  text: string;
}

/**
 * The string sections that lie within the file, decoded once for every pattern a caller runs
 * over them (directories.ts runs two): decoding is a copy of megabytes for some libraries.
 */
export function decodeStringSections(buf: Buffer, elf: ElfFile): DecodedSection[] {
  return stringSections(elf)
    .filter((s) => s.offset + s.size <= buf.length)
    .map((s) => ({ offset: s.offset, text: buf.toString('latin1', s.offset, s.offset + s.size) }));
}

/** Every path-looking run of characters in the file's string sections. */
export function findPaths(buf: Buffer, elf: ElfFile = parseElf(buf)): FoundString[] {
  return findPathsIn(decodeStringSections(buf, elf));
}

/** findPaths over sections already decoded. */
export function findPathsIn(sections: readonly DecodedSection[]): FoundString[] {
  const out: FoundString[] = [];
  for (const s of sections) for (const m of s.text.matchAll(PATH_IN_BINARY)) out.push({ offset: s.offset + m.index, value: m[0] });
  return out;
}

/**
 * `to` made exactly `length` bytes long by repeating a slash, so that it can replace a path of
 * that length in place. The slashes go just before the part `to` shares with `from` at its end,
 * so the tail stays where it was: compilers merge string tails, and a string that is a suffix of
 * `from` may be used on its own.
 */
export function padPath(from: string, to: string, length: number): string | undefined {
  if (to.length > length) return undefined;
  const pad = length - to.length;
  if (pad === 0) return to;
  let common = 0;
  while (common < to.length && common < from.length && to[to.length - 1 - common] === from[from.length - 1 - common]) common++;
  // the preserved tail must begin at a path separator, so the padding sits between components
  let tailStart = to.length - common;
  while (tailStart < to.length && to[tailStart] !== '/') tailStart++;
  if (tailStart >= to.length) {
    // nothing in common: pad at the end, before a trailing slash if any
    return to.endsWith('/') ? to.slice(0, -1) + '/'.repeat(pad) + '/' : to + '/'.repeat(pad);
  }
  return to.slice(0, tailStart) + '/'.repeat(pad) + to.slice(tailStart);
}

/** Bytes a path can be made of (letters, digits, `/ _ . + @ , = -`), as a lookup table. */
const PATH_BYTES = (() => {
  const t = new Uint8Array(256);
  for (const c of 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789/_.+@,=-') t[c.charCodeAt(0)] = 1;
  return t;
})();

/** Of those, the bytes that make a run of letters a file name or path: `/ . _ + -` and digits. */
const MARK_BYTES = (() => {
  const t = new Uint8Array(256);
  for (const c of '/._+-0123456789') t[c.charCodeAt(0)] = 1;
  return t;
})();

/**
 * Every whole NUL-terminated string of the string sections (one that starts after a NUL or at
 * the section's start) that looks like a path or file name: made only of path characters, with
 * at least one of `/ . _ + -` or a digit, 4 to `maxLength` bytes long. Tails of longer strings,
 * which compilers merge, are not listed on their own. Scans bytes, not decoded text: the string
 * sections of some libraries are megabytes of data (libicudata: 31 MB, 3 million short runs).
 */
export function wholePathStrings(buf: Buffer, elf: ElfFile, maxLength = 256): FoundString[] {
  const out: FoundString[] = [];
  for (const s of stringSections(elf)) {
    const end = s.offset + s.size;
    if (end > buf.length) continue;
    let start = s.offset;
    let clean = true;
    let marked = false;
    // a string running past the section's end counts only when a NUL follows it
    for (let i = s.offset; i <= end && i < buf.length; i++) {
      const b = buf[i]!;
      if (b === 0) {
        if (clean && marked && i - start >= 4 && i - start < maxLength) out.push({ offset: start, value: buf.toString('latin1', start, i) });
        start = i + 1;
        clean = true;
        marked = false;
      } else if (i === end) break;
      else if (clean) {
        if (PATH_BYTES[b] === 0) clean = false;
        else if (MARK_BYTES[b] === 1) marked = true;
      }
    }
  }
  return out;
}

/** Offsets of NUL-terminated strings exactly equal to `value` in the string sections. */
export function findExactStrings(buf: Buffer, value: string, elf: ElfFile = parseElf(buf)): number[] {
  const needle = Buffer.from(`\0${value}\0`, 'latin1');
  const out: number[] = [];
  for (const s of stringSections(elf)) {
    const end = Math.min(buf.length, s.offset + s.size);
    for (let i = buf.indexOf(needle, s.offset - 1); i >= 0 && i + needle.length <= end + 1; i = buf.indexOf(needle, i + 1)) {
      if (i + 1 >= s.offset) out.push(i + 1);
    }
  }
  return out;
}

/** Writes `value` over the bytes at `offset` (same length); returns a new buffer. */
export function overwrite(buf: Buffer, offset: number, value: string): Buffer {
  const out = Buffer.from(buf);
  out.write(value, offset, 'latin1');
  return out;
}

export interface RpathResult {
  data: Buffer;
  how: 'rewrote-runpath' | 'rewrote-rpath' | 'added-rpath' | 'moved-runpath-to-rpath' | 'moved-rpath';
  value: string;
}

function writeWord(buf: Buffer, elf: ElfFile, offset: number, value: number): void {
  if (elf.class === 64) {
    if (elf.littleEndian) buf.writeBigUInt64LE(BigInt(value), offset);
    else buf.writeBigUInt64BE(BigInt(value), offset);
  } else if (elf.littleEndian) buf.writeUInt32LE(value >>> 0, offset);
  else buf.writeUInt32BE(value >>> 0, offset);
}

function readWord(buf: Buffer, elf: ElfFile, offset: number): number {
  if (elf.class === 64) return Number(elf.littleEndian ? buf.readBigUInt64LE(offset) : buf.readBigUInt64BE(offset));
  return elf.littleEndian ? buf.readUInt32LE(offset) : buf.readUInt32BE(offset);
}

function findDynamicEntry(buf: Buffer, elf: ElfFile, tag: number): number | undefined {
  const dynSeg = elf.segments.find((s) => s.type === PT_DYNAMIC);
  if (!dynSeg) return undefined;
  const entrySize = elf.class === 64 ? 16 : 8;
  for (let o = dynSeg.offset; o + entrySize <= dynSeg.offset + dynSeg.filesz; o += entrySize) {
    const t = readWord(buf, elf, o);
    if (t === tag) return o;
    if (t === DT_NULL) return undefined;
  }
  return undefined;
}

/**
 * A dynamic entry that can be turned into DT_RPATH without losing anything the program needs:
 * DT_DEBUG (only debuggers read it; ld.so fills it in) or a spare DT_NULL after the terminator.
 */
function spareDynamicEntry(buf: Buffer, elf: ElfFile): number | undefined {
  const dynSeg = elf.segments.find((s) => s.type === PT_DYNAMIC);
  if (!dynSeg || !elf.dynamic) return undefined;
  const w = elf.class === 64 ? 8 : 4;
  const entrySize = 2 * w;
  let firstNull: number | undefined;
  for (let o = dynSeg.offset; o + entrySize <= dynSeg.offset + dynSeg.filesz; o += entrySize) {
    const tag = readWord(buf, elf, o);
    if (tag === DT_DEBUG) return o;
    if (tag === DT_NULL) {
      if (firstNull === undefined) firstNull = o;
      else return firstNull; // two NULLs: the first can become the entry, the second terminates
    }
  }
  return undefined;
}

/**
 * Room for `n` new bytes of string data that the program's loaded image will contain: the zero
 * padding after a PT_LOAD segment without writable bss, up to the next page another segment uses.
 * Returns the file offset and virtual address of the room and the segment to extend.
 */
function segmentTailRoom(buf: Buffer, elf: ElfFile, n: number): { offset: number; vaddr: number; phIndex: number } | undefined {
  const pageSize = 0x1000;
  // read-only segments first; older binaries (no -z separate-code) keep their read-only data in
  // the code segment, whose padding serves as well: the loader only needs the bytes mapped
  const loads = elf.segments
    .map((s, i) => ({ s, i }))
    .filter(({ s }) => s.type === PT_LOAD)
    .sort((a, b) => (a.s.flags & PF_X) - (b.s.flags & PF_X));
  for (const { s, i } of loads) {
    if (s.filesz !== s.memsz) continue;
    const start = s.offset + s.filesz;
    const end = start + n;
    const vStart = s.vaddr + s.memsz;
    const vEnd = vStart + n;
    if (end > buf.length) continue;
    // no other segment may start within the file bytes or the pages the extension would map
    const clash = elf.segments.some(
      (o, j) =>
        j !== i &&
        o.type === PT_LOAD &&
        ((o.offset < end && o.offset + o.filesz > start) || (Math.floor(o.vaddr / pageSize) <= Math.floor((vEnd - 1) / pageSize) && o.vaddr + o.memsz > vStart)),
    );
    if (clash) continue;
    if (elf.sections.some((sec) => sec.type !== 8 /* NOBITS */ && sec.size > 0 && sec.offset < end && sec.offset + sec.size > start)) continue;
    if (!buf.subarray(start, end).every((b) => b === 0)) continue;
    return { offset: start, vaddr: vStart, phIndex: i };
  }
  return undefined;
}

function programHeaderOffset(buf: Buffer, elf: ElfFile, index: number): number {
  const phoff = elf.class === 64 ? readWord(buf, elf, 32) : readWord(buf, elf, 28);
  const phentsize = elf.littleEndian ? buf.readUInt16LE(elf.class === 64 ? 54 : 42) : buf.readUInt16BE(elf.class === 64 ? 54 : 42);
  return phoff + index * phentsize;
}

/**
 * Makes an object search `dir` for its libraries, even when LD_LIBRARY_PATH is unset. An
 * existing RUNPATH/RPATH is rewritten in place through `mapEntry` (its directories moved) with
 * `dir` appended, when that fits. Otherwise the new search path is written into the zero padding
 * after a read-only segment (extended by those bytes) and the existing entry, or DT_DEBUG (or a
 * spare DT_NULL), becomes a DT_RPATH pointing at it. DT_RPATH rather than
 * DT_RUNPATH because RPATH of an executable also serves the libraries it loads, and is searched
 * before LD_LIBRARY_PATH, so a library shipped in the layer wins over an older runtime copy.
 */
export function ensureLibraryPath(buf: Buffer, dir: string | readonly string[], mapEntry: (entry: string) => string): RpathResult | { error: string } {
  const dirs = typeof dir === 'string' ? [dir] : [...dir];
  const elf = parseElf(buf);
  const dyn = elf.dynamic;
  if (!dyn) return { error: 'no dynamic section' };
  const existing = dyn.runpath ?? dyn.rpath;
  const entries = (existing?.value ?? '').split(':').filter(Boolean).map(mapEntry);
  // the package's own directories ($ORIGIN, or moved into the layer) stay first: LibreOffice finds
  // its program directory from where its URE libraries were loaded, and a copy of them reached
  // through the layer's directory would point it at /opt/lib; then the layer's directory, then
  // whatever system directory remains, which must not shadow the layer
  const root = `${path.posix.dirname(dirs[dirs.length - 1]!)}/`;
  const own = entries.filter((e) => !dirs.includes(e) && (e.includes('$ORIGIN') || e.includes('${ORIGIN}') || e.startsWith(root)));
  const rest = entries.filter((e) => !dirs.includes(e) && !own.includes(e));
  const wanted = [...own, ...dirs, ...rest].join(':');
  // in place when it fits (the layer's directory last, after the package's own), and when no
  // other name of the file shares the string's bytes (dynstr.ts)
  if (existing && dynstrOwnsString(dynstrReferences(buf, elf), existing.offset - dyn.strtab.offset, existing.value.length)) {
    const inPlace = [...entries.filter((e) => !dirs.includes(e)), ...dirs].join(':');
    const padded = padPath(existing.value, inPlace, existing.value.length);
    if (padded) return { data: overwrite(buf, existing.offset, padded), how: dyn.runpath ? 'rewrote-runpath' : 'rewrote-rpath', value: padded };
  }
  // otherwise a new string, and the existing entry (or a spare one) made a DT_RPATH pointing at it
  const entryOffset = existing?.entryOffset ?? spareDynamicEntry(buf, elf);
  if (entryOffset === undefined) return { error: 'no DT_DEBUG or spare dynamic entry to hold an RPATH' };
  const strtabVaddr = vaddrOfOffset(elf, dyn.strtab.offset);
  if (strtabVaddr === undefined) return { error: 'the string table is not loaded' };
  const room = segmentTailRoom(buf, elf, wanted.length + 1);
  if (!room || room.vaddr < strtabVaddr) return { error: 'no padding after a read-only segment to hold the RPATH string' };
  const out = Buffer.from(buf);
  out.write(wanted + '\0', room.offset, 'latin1');
  const ph = programHeaderOffset(out, elf, room.phIndex);
  const w = elf.class === 64 ? 8 : 4;
  const fileszAt = elf.class === 64 ? ph + 32 : ph + 16;
  const memszAt = elf.class === 64 ? ph + 40 : ph + 20;
  writeWord(out, elf, fileszAt, readWord(out, elf, fileszAt) + wanted.length + 1);
  writeWord(out, elf, memszAt, readWord(out, elf, memszAt) + wanted.length + 1);
  writeWord(out, elf, entryOffset, DT_RPATH);
  writeWord(out, elf, entryOffset + w, room.vaddr - strtabVaddr);
  // ld.so does not bound string offsets by DT_STRSZ, but readelf and other tools do: extend it
  // over the new string (the bytes in between are other read-only sections, never read as strings)
  const strsz = findDynamicEntry(out, elf, DT_STRSZ);
  if (strsz !== undefined) writeWord(out, elf, strsz + w, room.vaddr - strtabVaddr + wanted.length + 1);
  return { data: out, how: existing ? (dyn.runpath ? 'moved-runpath-to-rpath' : 'moved-rpath') : 'added-rpath', value: wanted };
}

/**
 * Points the program's ELF interpreter (PT_INTERP) at `interpreter`, in place: the new path and
 * NULs fill the old one's bytes, so it must be no longer. The kernel reads the path up to its NUL.
 */
export function setInterpreter(buf: Buffer, interpreter: string): { data: Buffer } | { error: string } {
  const elf = parseElf(buf);
  const seg = elf.segments.find((s) => s.type === PT_INTERP);
  if (!seg || elf.interpreter === undefined) return { error: 'no PT_INTERP' };
  if (interpreter.length + 1 > seg.filesz) return { error: `${interpreter} is longer than the ${seg.filesz - 1} bytes of ${elf.interpreter}` };
  const out = Buffer.from(buf);
  out.fill(0, seg.offset, seg.offset + seg.filesz);
  out.write(interpreter, seg.offset, 'latin1');
  return { data: out };
}

function vaddrOfOffset(elf: ElfFile, offset: number): number | undefined {
  for (const s of elf.segments) {
    if (s.type === PT_LOAD && offset >= s.offset && offset < s.offset + s.filesz) return s.vaddr + (offset - s.offset);
  }
  return undefined;
}
