import { existsSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseElf, type ElfFile } from '../../src/elf/read.js';
import { stringSections } from '../../src/elf/patch.js';
import { DEFAULT_KEEP } from '../../src/relocate/placement.js';
import { relocate } from '../../src/relocate/relocate.js';
import { readContent } from '../../src/tree/types.js';
import { cc } from '../helpers/cc.js';
import { expectGolden } from '../helpers/golden.js';
import { tempDir } from '../helpers/tmp.js';
import { file, treeOf } from '../helpers/tree.js';

/**
 * A relocation golden on real ELF files (issue 23): a program compiled here that names absolute
 * /usr and /etc paths (a data file, a dlopen plugin, a config file) and links a library of its own,
 * relocated as a layer, and every byte the relocation changed, said where it is and why. The
 * project's safety rule is that an in-place edit changes nothing but what it means to: the test
 * compares the whole file before and after, and any changed byte the golden does not explain, or
 * any string of the file that moved or changed outside the rewritten paths, fails it.
 *
 * Offsets a compiler chooses (where .rodata is, where the dynamic section is) differ between gcc
 * and binutils versions, so the golden never prints them: the compiled-in strings sit in one
 * object of fixed-size fields, so each rewrite is given as an offset into that object (fixed by the
 * C layout), and the other edits by what they are (a dynamic entry, a program header field).
 */

const TABLE_MAGIC = 'yumda-golden';
const FIELDS: Array<[name: string, size: number]> = [
  ['magic', 16],
  ['data', 48],
  ['plugin', 80],
  ['conf', 32],
  ['unshipped', 48],
  ['words', 32],
];

function program(triplet: string): string {
  return `#include <dlfcn.h>
#include <stdio.h>
int yumda_answer(void);
/* one object, so that each string's offset in it is fixed by the C layout, and the NUL padding after each is the program's own */
const struct { ${FIELDS.map(([n, s]) => `char ${n}[${s}];`).join(' ')} } yumda_table = {
  "${TABLE_MAGIC}",
  "/usr/share/yumda-test/data",
  "/usr/lib/${triplet}/yumda-test/libplugin.so",
  "/etc/yumda-test.conf",
  "/usr/share/yumda-not-shipped/x",
  "not a path, left alone",
};
int main(void) {
  FILE *f = fopen(yumda_table.data, "r");
  void *h = dlopen(yumda_table.plugin, RTLD_NOW);
  printf("answer=%d data=%s plugin=%s conf=%s\\n", yumda_answer(), f ? "yes" : "no", h ? "yes" : "no", yumda_table.conf);
  return 0;
}
`;
}

const TAGS: Record<number, string> = { 0: 'NULL', 1: 'NEEDED', 5: 'STRTAB', 10: 'STRSZ', 14: 'SONAME', 15: 'RPATH', 21: 'DEBUG', 29: 'RUNPATH' };

/** Bytes as C would spell them, so the NUL padding after a string shows. */
const spell = (b: Buffer) =>
  `"${[...b].map((c) => (c === 0 ? '\\0' : c >= 0x20 && c < 0x7f && c !== 0x22 && c !== 0x5c ? String.fromCharCode(c) : `\\x${c.toString(16).padStart(2, '0')}`)).join('')}"`;
const hex = (n: number) => `0x${n.toString(16)}`;

/** Runs of bytes that differ, as [start, end). */
function changedRanges(a: Buffer, b: Buffer): Array<[number, number]> {
  expect(b.length, 'an in-place relocation keeps the file size').toBe(a.length);
  const out: Array<[number, number]> = [];
  for (let i = 0; i < a.length; i++) {
    if (a[i] === b[i]) continue;
    const start = i;
    while (i < a.length && a[i] !== b[i]) i++;
    out.push([start, i]);
  }
  return out;
}

/** Printable runs of at least 4 bytes, by offset, as `strings` reads a file. */
function strings(buf: Buffer): Map<number, string> {
  const out = new Map<number, string>();
  let start = -1;
  for (let i = 0; i <= buf.length; i++) {
    const c = i < buf.length ? buf[i]! : 0;
    const printable = c >= 0x20 && c < 0x7f;
    if (printable && start < 0) start = i;
    if (!printable && start >= 0) {
      if (i - start >= 4) out.set(start, buf.toString('latin1', start, i));
      start = -1;
    }
  }
  return out;
}

/** The dynamic entries as [tag, value] pairs (64-bit little-endian: both architectures here). */
function dynamicEntries(buf: Buffer, elf: ElfFile): Array<{ at: number; tag: number; value: number }> {
  const d = elf.dynamic!.entries;
  return Array.from({ length: d.count }, (_, i) => {
    const at = d.offset + i * d.entrySize;
    return { at, tag: Number(buf.readBigUInt64LE(at)), value: Number(buf.readBigUInt64LE(at + 8)) };
  });
}

const sectionAt = (elf: ElfFile, offset: number) => elf.sections.find((s) => s.type !== 8 && s.size > 0 && offset >= s.offset && offset < s.offset + s.size);

/** Everything relocation did to one ELF file, each changed byte accounted for; what nothing explains is listed as such. */
function describeEdits(before: Buffer, after: Buffer): string[] {
  const lines: string[] = [];
  const elfB = parseElf(before);
  const elfA = parseElf(after);
  const explained = new Uint8Array(before.length);
  const explain = (start: number, end: number) => explained.fill(1, start, end);

  // the compiled-in strings, field by field: the whole field, so the NUL padding shows
  const table = before.indexOf(Buffer.from(`${TABLE_MAGIC}\0`, 'latin1'));
  if (table >= 0) {
    expect(before.indexOf(Buffer.from(`${TABLE_MAGIC}\0`, 'latin1'), table + 1), 'one table').toBe(-1);
    lines.push(`## yumda_table (in ${sectionAt(elfB, table)?.name}): each field, offset in the object, before -> after`);
    let off = 0;
    for (const [name, size] of FIELDS) {
      const b = before.subarray(table + off, table + off + size);
      const a = after.subarray(table + off, table + off + size);
      lines.push(b.equals(a) ? `+${hex(off)} ${name}: unchanged ${spell(b)}` : `+${hex(off)} ${name}: ${spell(b)}\n${' '.repeat(hex(off).length + name.length + 4)}-> ${spell(a)}`);
      if (!b.equals(a)) explain(table + off, table + off + size);
      off += size;
    }
  }

  // the library search path
  const dynB = elfB.dynamic ? dynamicEntries(before, elfB) : [];
  const dynA = elfA.dynamic ? dynamicEntries(after, elfA) : [];
  const dynChanged = dynB.map((e, i) => [e, dynA[i]!] as const).filter(([b, a]) => b.tag !== a.tag || b.value !== a.value);
  lines.push('## dynamic entries changed');
  if (!dynChanged.length) lines.push('(none)');
  for (const [b, a] of dynChanged) {
    explain(b.at, b.at + 16);
    if (a.tag === 15 || a.tag === 29) {
      const s = elfA.dynamic![a.tag === 15 ? 'rpath' : 'runpath']!;
      lines.push(`${TAGS[b.tag] ?? b.tag} -> ${TAGS[a.tag]} ${spell(after.subarray(s.offset, s.offset + s.value.length + 1))}`);
      // the string itself: in the zero padding after a read-only segment, or in place of the old one
      if (!before.subarray(s.offset, s.offset + s.value.length + 1).equals(after.subarray(s.offset, s.offset + s.value.length + 1))) {
        const was = before.subarray(s.offset, s.offset + s.value.length + 1);
        const grown = elfB.segments.findIndex((g, i) => g.offset + g.filesz === s.offset && elfA.segments[i]!.filesz > g.filesz);
        // whether that segment is also executable is the linker's choice (-z separate-code), not relocation's
        lines.push(
          `  its string ${grown >= 0 ? `in the padding after a read-only LOAD segment, which was ${was.every((c) => c === 0) ? 'all NULs' : spell(was)}` : `over ${spell(was)}`}`,
        );
        explain(s.offset, s.offset + s.value.length + 1);
      }
    } else if (b.tag === 10 && a.tag === 10) {
      const rp = elfA.dynamic!.rpath ?? elfA.dynamic!.runpath;
      const reaches = rp && a.value === rp.offset - elfA.dynamic!.strtab.offset + rp.value.length + 1;
      lines.push(`STRSZ: grown ${reaches ? 'to the end of the new search path string' : `by ${a.value - b.value} bytes`}`);
    } else lines.push(`${TAGS[b.tag] ?? b.tag} ${hex(b.value)} -> ${TAGS[a.tag] ?? a.tag} ${hex(a.value)}`);
  }

  // program headers
  const phoff = Number(before.readBigUInt64LE(32));
  const phentsize = before.readUInt16LE(54);
  lines.push('## program headers changed');
  const phChanged = elfB.segments.map((s, i) => [s, elfA.segments[i]!, i] as const).filter(([b, a]) => JSON.stringify(b) !== JSON.stringify(a));
  if (!phChanged.length) lines.push('(none)');
  for (const [b, a, i] of phChanged) {
    const fields = (['offset', 'vaddr', 'filesz', 'memsz', 'flags', 'type'] as const)
      .filter((k) => b[k] !== a[k])
      .map((k) => `p_${k} ${a[k] - b[k] >= 0 ? '+' : ''}${a[k] - b[k]}`);
    lines.push(`${b.type === 1 ? 'LOAD' : b.type} ${b.flags & 2 ? 'writable' : 'read-only'}: ${fields.join(', ')}`);
    explain(phoff + i * phentsize, phoff + (i + 1) * phentsize);
  }

  // anything else is a change nobody meant to make
  const unexplained = changedRanges(before, after).flatMap(([s, e]) => {
    const bytes: number[] = [];
    for (let i = s; i < e; i++) if (!explained[i]) bytes.push(i);
    return bytes.length
      ? [`UNEXPLAINED: ${bytes.length} bytes changed in ${sectionAt(elfB, bytes[0]!)?.name ?? 'no section'}: ${spell(before.subarray(s, e))} -> ${spell(after.subarray(s, e))}`]
      : [];
  });
  lines.push(...unexplained);

  // every string of the file outside what the lines above explain: the same bytes at the same place
  const sa = strings(after);
  let kept = 0;
  const lost: string[] = [];
  for (const [at, s] of strings(before)) {
    if (explained.subarray(at, at + s.length).some((x) => x === 1)) continue;
    if (sa.get(at) === s) kept++;
    else lost.push(`CHANGED STRING at ${sectionAt(elfB, at)?.name ?? 'no section'}: ${JSON.stringify(s)} -> ${JSON.stringify(sa.get(at))}`);
  }
  lines.push(...lost);
  expect(kept, 'the file has strings to compare').toBeGreaterThan(10);
  // the program's own string constants the edits left alone, by value (their place is the compiler's)
  const own = stringSections(elfB).flatMap((sec) =>
    [...strings(before.subarray(sec.offset, sec.offset + sec.size))]
      .filter(([at, s]) => !explained.subarray(sec.offset + at, sec.offset + at + s.length).includes(1))
      .map(([, s]) => s),
  );
  lines.push('## string constants of the program that stay as they were (besides every other string of the file, compared in place)');
  for (const s of own.sort()) lines.push(JSON.stringify(s));
  expect(unexplained, 'every changed byte is one the relocation meant to change').toEqual([]);
  expect(lost, 'every string outside the edits is unchanged').toEqual([]);
  return lines;
}

const ARCHES = [
  { arch: 'x86_64', triplet: 'x86_64-linux-gnu', compiler: 'gcc', golden: 'relocate-elf-x86_64.txt' },
  { arch: 'aarch64', triplet: 'aarch64-linux-gnu', compiler: 'aarch64-linux-gnu-gcc', golden: 'relocate-elf-aarch64.txt' },
] as const;
const onPath = (c: string) => (process.env.PATH ?? '').split(':').some((d) => existsSync(path.join(d, c)));

describe('relocation golden on compiled ELF files', () => {
  for (const a of ARCHES) {
    it.skipIf(!onPath(a.compiler))(`${a.arch}: paths rewritten in place, RPATH added, every other byte and string as compiled`, async (ctx) => {
      const dir = tempDir('yumda-elf-golden-');
      const lib = await cc('int yumda_answer(void) { return 42; }\n', 'libyumdagold.so.1', ['-O0', '-shared', '-fPIC', '-Wl,-soname,libyumdagold.so.1'], dir, a.compiler);
      const plugin = await cc('int yumda_plugin_ready = 1;\n', 'libplugin.so', ['-O0', '-shared', '-fPIC'], dir, a.compiler);
      const prog = await cc(program(a.triplet), 'yumda-golden', ['-O0', `-L${dir}`, '-l:libyumdagold.so.1', `-Wl,-rpath-link,${dir}`], dir, a.compiler);

      const staged = treeOf([
        file('/usr/bin/yumda-golden', prog.data, 0o755, 'yumda-golden'),
        file(`/usr/lib/${a.triplet}/libyumdagold.so.1`, lib.data, 0o644, 'libyumdagold1'),
        file(`/usr/lib/${a.triplet}/yumda-test/libplugin.so`, plugin.data, 0o644, 'yumda-golden'),
        file('/usr/share/yumda-test/data', 'data\n', 0o644, 'yumda-golden'),
        file('/etc/yumda-test.conf', 'answer = 42\n', 0o644, 'yumda-golden'),
      ]);
      const { layer, report } = relocate({ staged, layout: { triplet: a.triplet, keep: DEFAULT_KEEP }, recipes: [], shell: '/bin/sh' });

      const lines = [`# ${a.arch}: a program, its library and its dlopen plugin, relocated (test/unit/relocate-elf-golden.test.ts)`, ''];
      lines.push('# the report');
      for (const r of report.binaries.rewrittenPaths) lines.push(`rewritten ${r.file}: ${r.from} -> ${r.to}`);
      for (const r of report.binaries.rewrittenDirs) lines.push(`rewritten dir ${r.file}: ${r.from} -> ${r.to}`);
      for (const u of report.binaries.unrewritable) lines.push(`not rewritten ${u.file}: ${u.path}: ${u.why}`);
      for (const l of report.binaries.libraryPath) lines.push(`search path ${l.file}: ${l.how}`);
      for (const l of report.binaries.libraryPathFailed) lines.push(`no search path ${l.file}: ${l.why}`);
      for (const l of [...report.binaries.links].sort((x, y) => x.link.localeCompare(y.link))) lines.push(`link ${l.link} -> ${l.target}`);
      for (const u of report.binaries.unreadable) lines.push(`unreadable ${u.file}: ${u.why}`);

      for (const [from, to] of [
        ['/usr/bin/yumda-golden', '/opt/bin/yumda-golden'],
        [`/usr/lib/${a.triplet}/libyumdagold.so.1`, '/opt/lib/libyumdagold.so.1'],
        [`/usr/lib/${a.triplet}/yumda-test/libplugin.so`, '/opt/lib/yumda-test/libplugin.so'],
      ] as const) {
        const before = (staged.get(from) as { content: Parameters<typeof readContent>[0] }).content;
        const placed = layer.get(to);
        expect(placed?.kind, to).toBe('file');
        lines.push('', `# ${to} (was ${from})`);
        const b = readContent(before);
        const after = readContent((placed as { content: Parameters<typeof readContent>[0] }).content);
        if (b.equals(after)) lines.push('unchanged, byte for byte');
        else lines.push(...describeEdits(b, after));
      }
      expectGolden(ctx, a.golden, lines.join('\n') + '\n');
    });
  }
});
