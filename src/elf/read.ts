/**
 * A reader for the parts of ELF files that relocation and the closure check need: identity (class,
 * endianness, machine, type), program headers (PT_INTERP, PT_DYNAMIC), section headers with names,
 * the dynamic section's DT_NEEDED, DT_SONAME, DT_RPATH and DT_RUNPATH, and the symbol versions a
 * file needs (DT_VERNEED, `.gnu.version_r`) and defines (DT_VERDEF, `.gnu.version_d`). It reads a
 * Buffer (or a ByteSource: a file read in pieces), and every offset it returns is a file offset,
 * so callers that hold the whole file can patch bytes in place.
 */

import { readSync } from 'node:fs';

export const ELF_MAGIC = Buffer.from([0x7f, 0x45, 0x4c, 0x46]);

export const PT_LOAD = 1;
export const PT_DYNAMIC = 2;
export const PT_INTERP = 3;

export const DT_NULL = 0;
export const DT_NEEDED = 1;
export const DT_STRTAB = 5;
export const DT_DEBUG = 21;
export const DT_STRSZ = 10;
export const DT_SONAME = 14;
export const DT_RPATH = 15;
export const DT_RUNPATH = 29;
export const DT_VERDEF = 0x6ffffffc;
export const DT_VERDEFNUM = 0x6ffffffd;
export const DT_VERNEED = 0x6ffffffe;
export const DT_VERNEEDNUM = 0x6fffffff;

/** vd_flags: the definition naming the file itself (its soname), not a version of its symbols. */
const VER_FLG_BASE = 1;
/** vna_flags: a weak reference; the loader does not fail when the version is missing. */
const VER_FLG_WEAK = 2;

export const ET_EXEC = 2;
export const ET_DYN = 3;

export interface ElfSegment {
  type: number;
  flags: number;
  offset: number;
  vaddr: number;
  filesz: number;
  memsz: number;
}

export interface ElfSection {
  name: string;
  type: number;
  flags: number;
  addr: number;
  offset: number;
  size: number;
}

/** A string the dynamic section points at, with where its bytes are in the file. */
export interface DynamicString {
  tag: number;
  value: string;
  /** File offset of the string's first byte. */
  offset: number;
  /** File offset of the dynamic entry naming it (d_tag), for retagging RUNPATH/RPATH. */
  entryOffset: number;
}

export interface ElfFile {
  class: 32 | 64;
  littleEndian: boolean;
  type: number;
  machine: number;
  /** The program interpreter (e.g. /lib64/ld-linux-x86-64.so.2) for dynamically linked executables. */
  interpreter: string | undefined;
  segments: ElfSegment[];
  sections: ElfSection[];
  /** Absent for static executables and for files without PT_DYNAMIC. */
  dynamic: ElfDynamic | undefined;
}

export interface ElfDynamic {
  needed: string[];
  soname: string | undefined;
  rpath: DynamicString | undefined;
  runpath: DynamicString | undefined;
  strings: DynamicString[];
  /** File offset and size of the dynamic string table. */
  strtab: { offset: number; size: number };
  /** File offset of the PT_DYNAMIC entries and their count (including DT_NULL). */
  entries: { offset: number; count: number; entrySize: number };
  /** Symbol versions needed, per library (`libc.so.6`: GLIBC_2.34, …): what the loader checks at start. */
  versionNeeds: VersionNeed[];
  /** Symbol versions this file defines (GLIBC_2.36, …), without the base entry naming the file itself. */
  versionDefs: string[];
}

/** One DT_VERNEED entry: the versions a file requires of the library named `file` (a DT_NEEDED soname). */
export interface VersionNeed {
  file: string;
  versions: Array<{ name: string; weak: boolean }>;
}

export class ElfError extends Error {}

export function isElf(buf: Buffer): boolean {
  return buf.length >= 52 && buf.subarray(0, 4).equals(ELF_MAGIC);
}

/**
 * Where parseElf reads from: a whole file in memory, or a file read in pieces (fileSource), so the
 * closure check of a layer made elsewhere reads the headers and the dynamic section of a big ELF
 * file, not all of it.
 */
export interface ByteSource {
  length: number;
  /** `n` bytes at `offset`, all within the source (callers check first). */
  read(offset: number, n: number): Buffer;
}

export function bufferSource(buf: Buffer): ByteSource {
  return { length: buf.length, read: (o, n) => buf.subarray(o, o + n) };
}

/** A file read 64 KiB at a time through a small cache of pieces (at most 4 MiB held). */
export function fileSource(fd: number, size: number): ByteSource {
  const PIECE = 64 * 1024;
  const pieces = new Map<number, Buffer>();
  const piece = (i: number): Buffer => {
    let p = pieces.get(i);
    if (!p) {
      if (pieces.size >= 64) pieces.clear();
      const len = Math.min(PIECE, size - i * PIECE);
      p = Buffer.alloc(len);
      let got = 0;
      while (got < len) {
        const r = readSync(fd, p, got, len - got, i * PIECE + got);
        if (r === 0) throw new ElfError('the file is shorter than it says');
        got += r;
      }
      pieces.set(i, p);
    }
    return p;
  };
  return {
    length: size,
    read(offset, n) {
      if (offset < 0 || offset + n > size) throw new ElfError(`truncated ELF file (needs bytes ${offset}..${offset + n})`);
      const out = Buffer.alloc(n);
      for (let at = 0; at < n; ) {
        const i = Math.floor((offset + at) / PIECE);
        const p = piece(i);
        const from = offset + at - i * PIECE;
        at += p.copy(out, at, from, Math.min(p.length, from + n - at));
      }
      return out;
    },
  };
}

interface Reader {
  u16(o: number): number;
  u32(o: number): number;
  /** Native word: 32-bit in ELFCLASS32, 64-bit in ELFCLASS64 (as a JS number; files are < 2^53). */
  word(o: number): number;
  wordSize: number;
}

function reader(src: ByteSource, is64: boolean, le: boolean): Reader {
  const u16 = (o: number) => (le ? src.read(o, 2).readUInt16LE(0) : src.read(o, 2).readUInt16BE(0));
  const u32 = (o: number) => (le ? src.read(o, 4).readUInt32LE(0) : src.read(o, 4).readUInt32BE(0));
  const u64 = (o: number) => Number(le ? src.read(o, 8).readBigUInt64LE(0) : src.read(o, 8).readBigUInt64BE(0));
  return { u16, u32, word: is64 ? u64 : u32, wordSize: is64 ? 8 : 4 };
}

function cString(src: ByteSource, offset: number, limit = src.length): string {
  if (offset < 0 || offset >= limit) throw new ElfError(`string offset ${offset} outside the file`);
  const parts: Buffer[] = [];
  for (let at = offset; at < limit; ) {
    const chunk = src.read(at, Math.min(256, limit - at));
    const nul = chunk.indexOf(0);
    parts.push(nul < 0 ? chunk : chunk.subarray(0, nul));
    if (nul >= 0) break;
    at += chunk.length;
  }
  return Buffer.concat(parts).toString('latin1');
}

/** Maps a virtual address to a file offset through the PT_LOAD segments. */
export function vaddrToOffset(segments: ElfSegment[], vaddr: number): number | undefined {
  for (const s of segments) {
    if (s.type === PT_LOAD && vaddr >= s.vaddr && vaddr < s.vaddr + s.filesz) return s.offset + (vaddr - s.vaddr);
  }
  return undefined;
}

export function parseElf(input: Buffer | ByteSource): ElfFile {
  const buf = Buffer.isBuffer(input) ? bufferSource(input) : input;
  if (buf.length < 52 || !buf.read(0, 4).equals(ELF_MAGIC)) throw new ElfError('not an ELF file');
  const ident = buf.read(4, 2);
  const cls = ident[0];
  const data = ident[1];
  if (cls !== 1 && cls !== 2) throw new ElfError(`unknown ELF class ${cls}`);
  if (data !== 1 && data !== 2) throw new ElfError(`unknown ELF data encoding ${data}`);
  const is64 = cls === 2;
  const r = reader(buf, is64, data === 1);
  const need = (o: number, n: number) => {
    if (o < 0 || o + n > buf.length) throw new ElfError(`truncated ELF file (needs bytes ${o}..${o + n})`);
  };
  need(0, is64 ? 64 : 52);
  const type = r.u16(16);
  const machine = r.u16(18);
  const phoff = r.word(is64 ? 32 : 28);
  const shoff = r.word(is64 ? 40 : 32);
  const phentsize = r.u16(is64 ? 54 : 42);
  const phnum = r.u16(is64 ? 56 : 44);
  const shentsize = r.u16(is64 ? 58 : 46);
  const shnum = r.u16(is64 ? 60 : 48);
  const shstrndx = r.u16(is64 ? 62 : 50);

  const segments: ElfSegment[] = [];
  for (let i = 0; i < phnum; i++) {
    const o = phoff + i * phentsize;
    need(o, phentsize);
    segments.push(
      is64
        ? { type: r.u32(o), flags: r.u32(o + 4), offset: r.word(o + 8), vaddr: r.word(o + 16), filesz: r.word(o + 32), memsz: r.word(o + 40) }
        : { type: r.u32(o), offset: r.word(o + 4), vaddr: r.word(o + 8), filesz: r.word(o + 16), memsz: r.word(o + 20), flags: r.u32(o + 24) },
    );
  }

  const rawSections: Array<Omit<ElfSection, 'name'> & { nameOff: number }> = [];
  if (shoff > 0 && shnum > 0 && shoff + shnum * shentsize <= buf.length) {
    for (let i = 0; i < shnum; i++) {
      const o = shoff + i * shentsize;
      rawSections.push(
        is64
          ? { nameOff: r.u32(o), type: r.u32(o + 4), flags: r.word(o + 8), addr: r.word(o + 16), offset: r.word(o + 24), size: r.word(o + 32) }
          : { nameOff: r.u32(o), type: r.u32(o + 4), flags: r.word(o + 8), addr: r.word(o + 12), offset: r.word(o + 16), size: r.word(o + 20) },
      );
    }
  }
  const shstr = rawSections[shstrndx];
  const sections: ElfSection[] = rawSections.map(({ nameOff, ...s }) => ({
    ...s,
    name: shstr && shstr.offset + nameOff < buf.length ? cString(buf, shstr.offset + nameOff) : '',
  }));

  const interpSeg = segments.find((s) => s.type === PT_INTERP);
  let interpreter: string | undefined;
  if (interpSeg) {
    need(interpSeg.offset, interpSeg.filesz);
    interpreter = cString(buf, interpSeg.offset, interpSeg.offset + interpSeg.filesz);
  }

  return { class: is64 ? 64 : 32, littleEndian: data === 1, type, machine, interpreter, segments, sections, dynamic: parseDynamic(buf, r, segments) };
}

/** More dynamic entries than any real object has (tens): past it, the file is not one. */
const MAX_DYNAMIC_ENTRIES = 65536;

function parseDynamic(buf: ByteSource, r: Reader, segments: ElfSegment[]): ElfDynamic | undefined {
  const dyn = segments.find((s) => s.type === PT_DYNAMIC);
  if (!dyn) return undefined;
  const entrySize = r.wordSize * 2;
  const raw: Array<{ tag: number; val: number; at: number }> = [];
  for (let o = dyn.offset; o + entrySize <= dyn.offset + dyn.filesz && o + entrySize <= buf.length; o += entrySize) {
    const tag = r.word(o);
    if (raw.length >= MAX_DYNAMIC_ENTRIES) throw new ElfError(`more than ${MAX_DYNAMIC_ENTRIES} dynamic entries`);
    raw.push({ tag, val: r.word(o + r.wordSize), at: o });
    if (tag === DT_NULL) break;
  }
  const strtabAddr = raw.find((e) => e.tag === DT_STRTAB)?.val;
  const strsz = raw.find((e) => e.tag === DT_STRSZ)?.val ?? 0;
  if (strtabAddr === undefined) return undefined;
  const strtabOff = vaddrToOffset(segments, strtabAddr);
  if (strtabOff === undefined) throw new ElfError('DT_STRTAB is outside every loaded segment');
  const strings: DynamicString[] = [];
  for (const e of raw) {
    if (e.tag === DT_NEEDED || e.tag === DT_SONAME || e.tag === DT_RPATH || e.tag === DT_RUNPATH) {
      const offset = strtabOff + e.val;
      strings.push({ tag: e.tag, value: cString(buf, offset, Math.min(buf.length, strtabOff + strsz)), offset, entryOffset: e.at });
    }
  }
  const at = (tag: number) => raw.find((e) => e.tag === tag)?.val;
  const str = (off: number) => cString(buf, strtabOff + off, Math.min(buf.length, strtabOff + strsz));
  return {
    versionNeeds: parseVersionNeeds(buf, r, segments, at(DT_VERNEED), at(DT_VERNEEDNUM), str),
    versionDefs: parseVersionDefs(buf, r, segments, at(DT_VERDEF), at(DT_VERDEFNUM), str),
    needed: strings.filter((s) => s.tag === DT_NEEDED).map((s) => s.value),
    soname: strings.find((s) => s.tag === DT_SONAME)?.value,
    rpath: strings.find((s) => s.tag === DT_RPATH),
    runpath: strings.find((s) => s.tag === DT_RUNPATH),
    strings,
    strtab: { offset: strtabOff, size: strsz },
    entries: { offset: dyn.offset, count: raw.length, entrySize },
  };
}

/** At most this many entries in a version table: real files have a few dozen; a hostile count cannot make the reader loop long. */
const MAX_VERSION_ENTRIES = 4096;

/** Elf_Verneed chains (same layout in ELF32 and ELF64): vn_cnt, vn_file, vn_aux and vn_next, each Elf_Vernaux with vna_flags, vna_name, vna_next. */
function parseVersionNeeds(buf: ByteSource, r: Reader, segments: ElfSegment[], addr: number | undefined, count: number | undefined, str: (o: number) => string): VersionNeed[] {
  if (addr === undefined || !count) return [];
  let o = vaddrToOffset(segments, addr);
  if (o === undefined) throw new ElfError('DT_VERNEED is outside every loaded segment');
  const out: VersionNeed[] = [];
  for (let i = 0; i < Math.min(count, MAX_VERSION_ENTRIES); i++) {
    if (o < 0 || o + 16 > buf.length) throw new ElfError(`version need ${i} outside the file`);
    const cnt = r.u16(o + 2);
    const need: VersionNeed = { file: str(r.u32(o + 4)), versions: [] };
    let a = o + r.u32(o + 8);
    for (let j = 0; j < Math.min(cnt, MAX_VERSION_ENTRIES); j++) {
      if (a < 0 || a + 16 > buf.length) throw new ElfError(`version need ${i}.${j} outside the file`);
      need.versions.push({ name: str(r.u32(a + 8)), weak: (r.u16(a + 4) & VER_FLG_WEAK) !== 0 });
      const next = r.u32(a + 12);
      if (next === 0) break;
      a += next;
    }
    out.push(need);
    const next = r.u32(o + 12);
    if (next === 0) break;
    o += next;
  }
  return out;
}

/** Elf_Verdef chains: vd_flags, vd_cnt, vd_aux (its first Elf_Verdaux names the version) and vd_next. */
function parseVersionDefs(buf: ByteSource, r: Reader, segments: ElfSegment[], addr: number | undefined, count: number | undefined, str: (o: number) => string): string[] {
  if (addr === undefined || !count) return [];
  let o = vaddrToOffset(segments, addr);
  if (o === undefined) throw new ElfError('DT_VERDEF is outside every loaded segment');
  const out: string[] = [];
  for (let i = 0; i < Math.min(count, MAX_VERSION_ENTRIES); i++) {
    if (o < 0 || o + 20 > buf.length) throw new ElfError(`version definition ${i} outside the file`);
    const flags = r.u16(o + 2);
    const aux = o + r.u32(o + 12);
    if (aux < 0 || aux + 8 > buf.length) throw new ElfError(`version definition ${i} names nothing inside the file`);
    if (!(flags & VER_FLG_BASE)) out.push(str(r.u32(aux)));
    const next = r.u32(o + 16);
    if (next === 0) break;
    o += next;
  }
  return out;
}
