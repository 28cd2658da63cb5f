import { existsSync, readFileSync, realpathSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ElfError, parseElf } from '../../src/elf/read.js';
import { cc, versionedLibrary } from '../helpers/cc.js';
import { run } from '../helpers/cli.js';
import { tempDir } from '../helpers/tmp.js';

/** What binutils' readelf -V says a file needs and defines: the reference the parser is held to. */
async function readelfVersions(file: string): Promise<{ needs: Array<{ file: string; versions: string[] }>; defs: string[] }> {
  const r = await run('readelf', ['-VW', file]);
  const needs: Array<{ file: string; versions: string[] }> = [];
  const defs: string[] = [];
  for (const line of r.stdout.split('\n')) {
    const f = /^\s+\S+: Version: \d+\s+File: (\S+)\s+Cnt: \d+/.exec(line);
    if (f) needs.push({ file: f[1]!, versions: [] });
    const n = /^\s+\S+:\s+Name: (\S+)\s+Flags:/.exec(line);
    if (n) needs.at(-1)!.versions.push(n[1]!);
    const d = /^\s+\S+: Rev: \d+\s+Flags: (\S+)\s+Index: \d+\s+Cnt: \d+\s+Name: (\S+)/.exec(line);
    if (d && d[1] !== 'BASE') defs.push(d[2]!);
  }
  return { needs, defs };
}

const CROSS = 'aarch64-linux-gnu-gcc';
const haveCross = (process.env.PATH ?? '').split(':').some((d) => existsSync(path.join(d, CROSS)));

describe('ELF reader: symbol versions (DT_VERNEED and DT_VERDEF)', () => {
  const cases: Array<[string, () => Promise<{ path: string; data: Buffer }>, (v: { needs: Map<string, string[]>; defs: string[] }) => void]> = [
    [
      'a program calling arc4random needs GLIBC_2.36 of libc.so.6',
      () => cc('#include <stdlib.h>\n#include <stdio.h>\nint main(void) { printf("%u\\n", arc4random()); return 0; }\n', 'arc4', []),
      (v) => {
        expect(v.needs.get('libc.so.6')).toEqual(expect.arrayContaining(['GLIBC_2.36', 'GLIBC_2.2.5']));
        expect(v.defs).toEqual([]);
      },
    ],
    [
      'a C++ program needs GLIBCXX and CXXABI versions of libstdc++.so.6 as well',
      // g++ compiles a .c file as C++
      () =>
        cc(
          '#include <stdexcept>\nint main(int argc, char**) { try { if (argc > 5) throw std::runtime_error("x"); } catch (...) { return 1; } return 0; }\n',
          'cxx',
          [],
          tempDir(),
          'g++',
        ),
      (v) => {
        expect(v.needs.get('libstdc++.so.6')?.some((n) => n.startsWith('GLIBCXX_3.4'))).toBe(true);
        expect(v.needs.get('libstdc++.so.6')?.some((n) => n.startsWith('CXXABI_1.3'))).toBe(true);
      },
    ],
    [
      'a library defines the versions of its version script, without the base entry',
      async () => {
        const dir = tempDir();
        await versionedLibrary(dir);
        return { path: path.join(dir, 'libv.so.1'), data: readFileSync(path.join(dir, 'libv.so.1')) };
      },
      (v) => expect(v.defs).toEqual(['V_1.0', 'V_2.0']),
    ],
    [
      'a program calling two() needs V_2.0 of libv.so.1',
      async () => {
        const dir = tempDir();
        await versionedLibrary(dir);
        return { path: path.join(dir, 'needs-v2'), data: readFileSync(path.join(dir, 'needs-v2')) };
      },
      (v) => expect(v.needs.get('libv.so.1')).toEqual(['V_2.0']),
    ],
  ];
  it.each(cases)('%s (as readelf -V reads it)', async (_, build, check) => {
    const f = await build();
    const elf = parseElf(f.data);
    const needs = new Map(elf.dynamic!.versionNeeds.map((n) => [n.file, n.versions.map((x) => x.name)]));
    check({ needs, defs: elf.dynamic!.versionDefs });
    const ref = await readelfVersions(f.path);
    expect(elf.dynamic!.versionNeeds.map((n) => ({ file: n.file, versions: n.versions.map((x) => x.name) }))).toEqual(ref.needs);
    expect(elf.dynamic!.versionDefs).toEqual(ref.defs);
  });

  it('reads the C library of the machine: libc.so.6 defines every GLIBC version up to its own', async () => {
    const libc = (await run('gcc', ['-print-file-name=libc.so.6'])).stdout.trim();
    const elf = parseElf(readFileSync(realpathSync(libc)));
    const ldd = (await run('ldd', ['--version'])).stdout.split('\n')[0]!;
    const own = /(\d+\.\d+)\s*$/.exec(ldd)![1]!;
    expect(elf.dynamic!.versionDefs).toEqual(expect.arrayContaining(['GLIBC_2.2.5', 'GLIBC_2.17', `GLIBC_${own}`, 'GLIBC_PRIVATE']));
    expect((await readelfVersions(realpathSync(libc))).defs).toEqual(elf.dynamic!.versionDefs);
  });

  it.skipIf(!haveCross)('reads an aarch64 program: its C library versions start at GLIBC_2.17', async () => {
    const f = await cc('#include <stdio.h>\nint main(void) { puts("hi"); return 0; }\n', 'arm', [], tempDir(), CROSS);
    const elf = parseElf(f.data);
    expect(elf.machine).toBe(183);
    expect(elf.dynamic!.versionNeeds.find((n) => n.file === 'libc.so.6')?.versions.map((v) => v.name)).toEqual(expect.arrayContaining(['GLIBC_2.17']));
  });

  it('reads a weak reference as weak, and refuses a version table pointing outside the file', async () => {
    const dir = tempDir();
    await versionedLibrary(dir);
    const prog = readFileSync(path.join(dir, 'needs-v2'));
    const elf = parseElf(prog);
    const sec = elf.sections.find((s) => s.name === '.gnu.version_r')!;
    // the first Elf_Vernaux of the first Elf_Verneed: vn_aux at +8, vna_flags at +4 of the aux entry
    const aux = sec.offset + prog.readUInt32LE(sec.offset + 8);
    const weak = Buffer.from(prog);
    weak.writeUInt16LE(2, aux + 4);
    expect(parseElf(weak).dynamic!.versionNeeds[0]!.versions[0]).toMatchObject({ weak: true });
    expect(elf.dynamic!.versionNeeds[0]!.versions[0]).toMatchObject({ weak: false });
    const broken = Buffer.from(prog);
    broken.writeUInt32LE(0x7fff_fff0, sec.offset + 8);
    expect(() => parseElf(broken)).toThrow(ElfError);
    // a chain that points at itself ends at the count DT_VERNEEDNUM gives: no endless loop
    const loop = Buffer.from(prog);
    loop.writeUInt32LE(0, sec.offset + 12);
    expect(parseElf(loop).dynamic!.versionNeeds.length).toBeGreaterThan(0);
  });
});
