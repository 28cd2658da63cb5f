import { readFileSync, realpathSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { refuseCLibraryPackage } from '../../src/check/c-library.js';
import { checkClosure, leaveOutUnloadableModules } from '../../src/check/closure.js';
import { gateLayer, type GateInput } from '../../src/check/gate.js';
import { Diagnostics } from '../../src/util/diagnostics.js';
import {
  compareVersionNames,
  groupVersionProblems,
  recordedHas,
  runtimeSymbolVersions,
  versionGroupLine,
  type RuntimeVersions,
  type VersionProblem,
} from '../../src/check/versions.js';
import { parseElf } from '../../src/elf/read.js';
import { loadRuntime } from '../../src/registry/load.js';
import type { FileTree } from '../../src/tree/types.js';
import { file, symlink, treeOf } from '../helpers/tree.js';
import { cc, versionedLibrary } from '../helpers/cc.js';
import { run } from '../helpers/cli.js';
import { tempDir } from '../helpers/tmp.js';

/** The GLIBC versions of a C library up to `newest`, as a runtime manifest records them. */
function glibcUpTo(newest: string, from = '2.2.5'): string[] {
  const all = ['2.2.5', '2.3', '2.3.4', '2.4', '2.14', '2.17', '2.26', '2.28', '2.31', '2.33', '2.34', '2.36', '2.38', '2.41'];
  const at = (v: string) => all.indexOf(v);
  return all.filter((v) => at(v) >= at(from) && at(v) <= at(newest)).map((v) => `GLIBC_${v}`);
}
const runtimeWith = (newest: string, from?: string): RuntimeVersions => ({ id: 'old', symbolVersions: [{ soname: 'libc.so.6', versions: glibcUpTo(newest, from) }] });

describe('symbol versions: names and records', () => {
  it.each([
    ['GLIBC_2.9', 'GLIBC_2.10', -1],
    ['GLIBC_2.2.5', 'GLIBC_2.3', -1],
    ['GLIBC_2.36', 'GLIBC_2.36', 0],
    ['GLIBCXX_3.4.30', 'GLIBCXX_3.4.9', 1],
    ['GLIBC_PRIVATE', 'GLIBC_2.41', 1],
  ] as const)('%s against %s', (a, b, sign) => {
    expect(Math.sign(compareVersionNames(a, b))).toBe(sign);
  });

  it.each([
    // an x86_64 record serves aarch64 programs too: GLIBC_2.17 is older than the newest recorded
    [glibcUpTo('2.36'), 'GLIBC_2.17', true],
    [glibcUpTo('2.34'), 'GLIBC_2.36', false],
    [glibcUpTo('2.41', '2.17'), 'GLIBC_2.2.5', true],
    [['GCC_7.0.0'], 'GCC_12.0.0', false],
    // a name without a number must be there as it is
    [[...glibcUpTo('2.41'), 'GLIBC_ABI_DT_RELR'], 'GLIBC_ABI_DT_RELR', true],
    [glibcUpTo('2.34'), 'GLIBC_ABI_DT_RELR', false],
    // one architecture's marker: a record read on another cannot speak for it
    [[...glibcUpTo('2.36'), 'GLIBC_ABI_DT_RELR'], 'GLIBC_ABI_DT_X86_64_PLT', true],
  ] as const)('a record up to %j has %s: %s', (versions, need, has) => {
    expect(recordedHas(versions, need)).toBe(has);
  });

  it.each([
    // aarch64's libresolv defines only GLIBC_2.17, the port's version of x86_64's GLIBC_2.2.5 to GLIBC_2.9
    [['GLIBC_2.2.5', 'GLIBC_2.3.2', 'GLIBC_2.9'], 'GLIBC_2.17', 183, true],
    [['GLIBC_2.2.5', 'GLIBC_2.3.2', 'GLIBC_2.9'], 'GLIBC_2.17', 62, false],
    [['GLIBC_2.2.5', 'GLIBC_2.3.2', 'GLIBC_2.9'], 'GLIBC_2.17', undefined, false],
    // newer than the port: the record must have it
    [['GLIBC_2.2.5', 'GLIBC_2.9'], 'GLIBC_2.34', 183, false],
    [['GLIBCXX_3.4'], 'GLIBCXX_3.4.9', 183, false],
  ] as const)('a record %j has %s for machine %s: %s', (versions, need, machine, has) => {
    expect(recordedHas(versions, need, machine)).toBe(has);
  });

  it('a runtime keeps only the C and C++ runtime versions of its libraries, in numeric order', () => {
    expect(
      runtimeSymbolVersions([
        { soname: 'libc.so.6', defs: ['GLIBC_2.10', 'GLIBC_2.9', 'GLIBC_PRIVATE', 'GLIBC_2.2.5'] },
        { soname: 'libz.so.1', defs: ['ZLIB_1.2.9'] },
        { soname: 'libstdc++.so.6', defs: ['GLIBCXX_3.4', 'CXXABI_1.3'] },
      ]),
    ).toEqual([
      { soname: 'libc.so.6', versions: ['GLIBC_2.2.5', 'GLIBC_2.9', 'GLIBC_2.10', 'GLIBC_PRIVATE'] },
      { soname: 'libstdc++.so.6', versions: ['CXXABI_1.3', 'GLIBCXX_3.4'] },
    ]);
  });
});

describe('symbol versions: the closure check, on programs and libraries compiled here', () => {
  let v: Awaited<ReturnType<typeof versionedLibrary>>;
  /** Calls arc4random, which glibc added in 2.36: it needs GLIBC_2.36 of libc.so.6. */
  let arc4: Buffer;
  /** The machine's own libc.so.6 (Debian 12: up to GLIBC_2.36), as a self-contained layer ships it. */
  let libc: Buffer;
  let plugin: Buffer;

  beforeAll(async () => {
    const dir = tempDir();
    v = await versionedLibrary(dir);
    arc4 = (await cc('#include <stdlib.h>\n#include <stdio.h>\nint main(void) { printf("%u\\n", arc4random()); return 0; }\n', 'arc4', [], dir)).data;
    plugin = (await cc('#include <stdlib.h>\nunsigned plugin_entry(void) { return arc4random(); }\n', 'plugin.so', ['-shared', '-fPIC'], dir)).data;
    libc = readFileSync(realpathSync((await run('gcc', ['-print-file-name=libc.so.6'])).stdout.trim()));
  });

  const bin = (p: string, data: Buffer) => file(p, data, 0o755);
  const cases: Array<[string, () => FileTree, RuntimeVersions, Array<Partial<VersionProblem>>]> = [
    ['the layer ships the library with the version needed', () => treeOf([bin('/opt/bin/needs-v2', v.needsV2), file('/opt/lib/libv.so.1', v.lib)]), runtimeWith('2.36'), []],
    [
      "the layer's library is older than the program: V_2.0 missing, its newest V_1.0",
      () => treeOf([bin('/opt/bin/needs-v2', v.needsV2), file('/opt/lib/libv.so.1', v.libV1)]),
      runtimeWith('2.36'),
      [{ file: '/opt/bin/needs-v2', library: 'libv.so.1', version: 'V_2.0', provider: { layer: '/opt/lib/libv.so.1' }, newest: 'V_1.0' }],
    ],
    [
      'a program needing only V_1.0 is content with the older library',
      () => treeOf([bin('/opt/bin/needs-v1', v.needsV1), file('/opt/lib/libv.so.1', v.libV1)]),
      runtimeWith('2.36'),
      [],
    ],
    [
      'the library found through a symlink',
      () => treeOf([bin('/opt/bin/needs-v2', v.needsV2), file('/opt/lib/libv.so.1.0', v.libV1), symlink('/opt/lib/libv.so.1', 'libv.so.1.0')]),
      runtimeWith('2.36'),
      [{ library: 'libv.so.1', version: 'V_2.0', provider: { layer: '/opt/lib/libv.so.1.0' } }],
    ],
    ["the runtime's C library is new enough (2.36)", () => treeOf([bin('/opt/bin/arc4', arc4)]), runtimeWith('2.36'), []],
    [
      "the runtime's C library is too old (2.34, AL2023's): GLIBC_2.36 missing",
      () => treeOf([bin('/opt/bin/arc4', arc4)]),
      runtimeWith('2.34'),
      [{ file: '/opt/bin/arc4', library: 'libc.so.6', version: 'GLIBC_2.36', provider: { runtime: 'old' }, newest: 'GLIBC_2.34' }],
    ],
    ['a runtime that records nothing of libc.so.6 is not held against the program', () => treeOf([bin('/opt/bin/arc4', arc4)]), { id: 'old', symbolVersions: [] }, []],
    [
      "the layer's own C library satisfies its programs first (a self-contained layer)",
      () => treeOf([bin('/opt/bin/arc4', arc4), file('/opt/lib/libc.so.6', libc)]),
      runtimeWith('2.31'),
      [],
    ],
  ];
  it.each(cases)('%s', (_, layer, runtime, expected) => {
    const r = checkClosure(layer(), ['libc.so.6', 'libv.so.1'], { runtime, selfContained: true });
    expect(r.versions).toEqual(expected.map((e) => expect.objectContaining(e)));
  });

  it("in-process use (a self-contained layer's libraries loaded by the runtime's processes) is held against the runtime's C library", async () => {
    const { elfObjects } = await import('../../src/elf/graph.js');
    const { unmetVersions } = await import('../../src/check/versions.js');
    const layer = treeOf([bin('/opt/bin/arc4', arc4), file('/opt/lib/libc.so.6', libc), file('/opt/lib/libv.so.1', v.libV1), bin('/opt/bin/needs-v2', v.needsV2)]);
    const objects = elfObjects(layer);
    expect(unmetVersions(layer, objects, runtimeWith('2.31'))).toEqual([expect.objectContaining({ library: 'libv.so.1', version: 'V_2.0' })]);
    // the layer's own libc does not count in-process; its libv (not the C runtime) still does
    expect(unmetVersions(layer, objects, runtimeWith('2.31'), { inProcess: true }).map((p) => `${p.file} ${p.version} ${'runtime' in p.provider ? 'runtime' : 'layer'}`)).toEqual([
      '/opt/bin/arc4 GLIBC_2.34 runtime',
      '/opt/bin/arc4 GLIBC_2.36 runtime',
      '/opt/bin/needs-v2 GLIBC_2.34 runtime',
      '/opt/bin/needs-v2 V_2.0 layer',
    ]);
  });

  it('real runtimes: Debian 12 runs it, AL2023 and AL2 do not (and say their newest)', () => {
    const layer = treeOf([bin('/opt/bin/arc4', arc4)]);
    const on = (id: string) => checkClosure(layer, loadRuntime(id).libraries, { runtime: loadRuntime(id) }).versions.map((p) => `${p.version} ${p.newest}`);
    expect([on('debian12'), on('debian13'), on('provided.al2023'), on('provided.al2')]).toEqual([
      [],
      [],
      ['GLIBC_2.36 GLIBC_2.34'],
      ['GLIBC_2.34 GLIBC_2.26', 'GLIBC_2.36 GLIBC_2.26'],
    ]);
  });

  it('a weak reference is not held against the program', () => {
    const weak = Buffer.from(v.needsV2);
    const sec = parseElf(weak).sections.find((s) => s.name === '.gnu.version_r')!;
    weak.writeUInt16LE(2, sec.offset + weak.readUInt32LE(sec.offset + 8) + 4);
    expect(checkClosure(treeOf([bin('/opt/bin/p', weak), file('/opt/lib/libv.so.1', v.libV1)]), [], { runtime: runtimeWith('2.36') }).versions).toEqual([]);
  });

  it('a layer that is not self-contained may not ship a C library; one that is may', () => {
    const layer = treeOf([bin('/opt/bin/arc4', arc4), file('/opt/lib/libc.so.6', libc), file('/opt/lib/private/libc-copy.so', libc)]);
    expect(checkClosure(layer, ['libc.so.6'], { runtime: runtimeWith('2.36') }).cLibrary).toEqual(['/opt/lib/libc.so.6', '/opt/lib/private/libc-copy.so']);
    expect(checkClosure(layer, ['libc.so.6'], { runtime: runtimeWith('2.36'), selfContained: true }).cLibrary).toEqual([]);
  });

  it('a module nothing links to, needing a newer C library than the runtime has, is left out as an unloadable one', () => {
    const layer = treeOf([bin('/opt/bin/needs-v1', v.needsV1), file('/opt/lib/libv.so.1', v.lib), file('/opt/lib/plugins/plugin.so', plugin)]);
    const left = leaveOutUnloadableModules(layer, ['libc.so.6'], runtimeWith('2.34'));
    expect(left).toEqual([{ file: '/opt/lib/plugins/plugin.so', soname: 'libc.so.6', version: 'GLIBC_2.36' }]);
    expect(layer.has('/opt/lib/plugins/plugin.so')).toBe(false);
    // with a runtime that has 2.36 it stays
    const again = treeOf([file('/opt/lib/plugins/plugin.so', plugin)]);
    expect(leaveOutUnloadableModules(again, ['libc.so.6'], runtimeWith('2.36'))).toEqual([]);
  });
});

describe('symbol versions: told in one line, refused by the gate', () => {
  const problems: VersionProblem[] = [
    { file: '/opt/bin/pdftoppm', library: 'libc.so.6', version: 'GLIBC_2.38', provider: { runtime: 'debian12' }, newest: 'GLIBC_2.36' },
    { file: '/opt/bin/pdftotext', library: 'libc.so.6', version: 'GLIBC_2.38', provider: { runtime: 'debian12' }, newest: 'GLIBC_2.36' },
    { file: '/opt/lib/libpoppler.so.140', library: 'libc.so.6', version: 'GLIBC_2.37', provider: { runtime: 'debian12' }, newest: 'GLIBC_2.36' },
    { file: '/opt/lib/libpoppler.so.140', library: 'libstdc++.so.6', version: 'GLIBCXX_3.4.32', provider: { runtime: 'debian12' }, newest: 'GLIBCXX_3.4.30' },
  ];
  const input = (over: Partial<GateInput>): GateInput => ({
    layer: treeOf([file('/opt/bin/pdftoppm', 'x', 0o755)]),
    missing: [],
    runtimeId: 'debian12',
    targetId: 'debian12',
    ...over,
  });

  it('groups by library, the newest version first', () => {
    expect(groupVersionProblems(problems).map(versionGroupLine)).toEqual([
      "/opt/bin/pdftoppm and 2 more files need GLIBC_2.38 (and GLIBC_2.37) of libc.so.6, which the debian12 runtime's libc.so.6 lacks (its newest is GLIBC_2.36)",
      "/opt/lib/libpoppler.so.140 needs GLIBCXX_3.4.32 of libstdc++.so.6, which the debian12 runtime's libstdc++.so.6 lacks (its newest is GLIBCXX_3.4.30)",
    ]);
  });

  it('refuses in one line naming the file, the version and the fix; --allow-missing writes it, warned', () => {
    const said: string[] = [];
    let err: { message: string; hint?: string } | undefined;
    try {
      gateLayer(input({ versions: problems }), { allowMissing: false, force: false, limit: 'layer' }, new Diagnostics((w) => said.push(w)));
    } catch (e) {
      err = e as typeof err;
    }
    expect(said).toEqual([]);
    expect(`${err!.message}; ${err!.hint}`).toBe(
      "/opt/bin/pdftoppm and 2 more files need GLIBC_2.38 (and GLIBC_2.37) of libc.so.6, which the debian12 runtime's libc.so.6 lacks (its newest is GLIBC_2.36) (and 1 more library lacking versions); nothing written; " +
        'build for a runtime that has it (--target debian13), or make the layer self-contained, with its own C library (--from debian13); or pass --allow-missing to write it anyway',
    );
    const through = gateLayer(input({ versions: problems }), { allowMissing: true, force: false, limit: 'layer' }, new Diagnostics((w) => said.push(w)));
    expect(through.missingVersions).toHaveLength(4);
    expect(said).toHaveLength(2);
  });

  it("a library of the layer's own that is too old is said to be the packages' mismatch", () => {
    const p: VersionProblem = { file: '/opt/bin/needs-v2', library: 'libv.so.1', version: 'V_2.0', provider: { layer: '/opt/lib/libv.so.1' }, newest: 'V_1.0' };
    expect(() => gateLayer(input({ versions: [p] }), { allowMissing: false, force: false, limit: 'layer' }, new Diagnostics())).toThrow(
      "/opt/bin/needs-v2 needs V_2.0 of libv.so.1, which the layer's /opt/lib/libv.so.1 lacks (its newest is V_1.0); nothing written",
    );
  });

  it('refuses a layer that ships a C library without being self-contained', () => {
    expect(() => gateLayer(input({ cLibrary: ['/opt/lib/libc.so.6'] }), { allowMissing: true, force: true, limit: 'layer' }, new Diagnostics())).toThrow(
      /^the layer would ship its own C library \(\/opt\/lib\/libc\.so\.6\), which cannot take the place of the debian12 runtime's: its programs still start on the runtime's loader; nothing written$/,
    );
  });

  it.each([
    ['deb', [{ name: 'libc6', version: '2.41-12' }], /^the plan ships libc6 2\.41-12 \(GLIBC_2\.41\), a C library, which cannot take the place of the debian12 runtime's/],
    ['rpm', [{ name: 'glibc', version: '2.38-1.fc39' }], /^the plan ships glibc 2\.38-1\.fc39 \(GLIBC_2\.38\), a C library/],
  ] as const)('refuses a %s plan that would ship the C library, before anything is downloaded', (family, packages, message) => {
    let err: { message: string; hint?: string } | undefined;
    try {
      refuseCLibraryPackage([{ name: 'tool', version: '1' }, ...packages], family, 'debian12', 'debian12');
    } catch (e) {
      err = e as typeof err;
    }
    expect(err?.message).toMatch(message);
    expect(err?.hint).toMatch(/--target debian13.*--from debian13/);
    expect(() => refuseCLibraryPackage([{ name: 'libc6-dev', version: '2.41-12' }], family, 'debian12', 'debian12')).not.toThrow();
  });
});
