/**
 * Who points into the dynamic string table. GNU ld merges .dynstr tails as it does .rodata's: a
 * symbol or version name may be the last bytes of a DT_RUNPATH string, so a RUNPATH may be
 * rewritten in place only when nothing else points inside it. Pure.
 */
import { DT_NULL, PT_DYNAMIC, type ElfFile } from './read.js';

const SHT_DYNSYM = 11;
const SHT_GNU_VERDEF = 0x6ffffffd;
const SHT_GNU_VERNEED = 0x6ffffffe;
/** Dynamic tags whose value is an offset into .dynstr. */
const STRING_TAGS = new Set([1 /* NEEDED */, 14 /* SONAME */, 15 /* RPATH */, 29 /* RUNPATH */, 0x7ffffffd /* AUXILIARY */, 0x7fffffff /* FILTER */]);

/**
 * Offsets into .dynstr that the file uses: dynamic entries, dynamic symbols' names, version
 * definitions and needs. Undefined when they cannot all be found (no section headers to find the
 * symbol and version tables by), so callers treat every byte as shared.
 */
export function dynstrReferences(buf: Buffer, elf: ElfFile): Set<number> | undefined {
  if (!elf.dynamic || elf.sections.length === 0) return undefined;
  const le = elf.littleEndian;
  const is64 = elf.class === 64;
  const u16 = (o: number) => (le ? buf.readUInt16LE(o) : buf.readUInt16BE(o));
  const u32 = (o: number) => (le ? buf.readUInt32LE(o) : buf.readUInt32BE(o));
  const word = (o: number) => (is64 ? Number(le ? buf.readBigUInt64LE(o) : buf.readBigUInt64BE(o)) : u32(o));
  const inFile = (o: number, n: number) => o >= 0 && o + n <= buf.length;
  const refs = new Set<number>();
  try {
    const dyn = elf.segments.find((s) => s.type === PT_DYNAMIC)!;
    const w = is64 ? 8 : 4;
    for (let o = dyn.offset; o + 2 * w <= dyn.offset + dyn.filesz && inFile(o, 2 * w); o += 2 * w) {
      const tag = word(o);
      if (tag === DT_NULL) break;
      if (STRING_TAGS.has(tag)) refs.add(word(o + w));
    }
    for (const s of elf.sections) {
      if (!inFile(s.offset, s.size)) return undefined;
      if (s.type === SHT_DYNSYM) {
        const size = is64 ? 24 : 16;
        for (let o = s.offset; o + size <= s.offset + s.size; o += size) refs.add(u32(o));
      } else if (s.type === SHT_GNU_VERNEED) {
        for (let o = s.offset, guard = 0; inFile(o, 16) && guard < 100000; guard++) {
          refs.add(u32(o + 4));
          let a = o + u32(o + 8);
          for (let i = 0, cnt = u16(o + 2); i < cnt && inFile(a, 16); i++) {
            refs.add(u32(a + 8));
            const next = u32(a + 12);
            if (next === 0) break;
            a += next;
          }
          const next = u32(o + 12);
          if (next === 0) break;
          o += next;
        }
      } else if (s.type === SHT_GNU_VERDEF) {
        for (let o = s.offset, guard = 0; inFile(o, 20) && guard < 100000; guard++) {
          let a = o + u32(o + 12);
          for (let i = 0, cnt = u16(o + 6); i < cnt && inFile(a, 8); i++) {
            refs.add(u32(a));
            const next = u32(a + 4);
            if (next === 0) break;
            a += next;
          }
          const next = u32(o + 16);
          if (next === 0) break;
          o += next;
        }
      }
    }
  } catch {
    return undefined;
  }
  return refs;
}

/**
 * True when nothing but the string starting at `start` (a .dynstr offset) points into its
 * `length` bytes: a rewrite of those bytes then changes no other name.
 */
export function dynstrOwnsString(refs: Set<number> | undefined, start: number, length: number): boolean {
  if (!refs) return false;
  for (const r of refs) if (r > start && r < start + length) return false;
  return true;
}
