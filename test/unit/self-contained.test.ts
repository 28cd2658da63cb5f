import { readFileSync, writeFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseElf } from '../../src/elf/read.js';
import { setInterpreter } from '../../src/elf/patch.js';
import { inProcessUse } from '../../src/check/in-process.js';
import type { Runtime } from '../../src/registry/types.js';
import { PRIVATE_INTERPRETER, privatizeLibraries } from '../../src/relocate/self-contained.js';
import { DEFAULT_KEEP } from '../../src/relocate/placement.js';
import { relocate } from '../../src/relocate/relocate.js';
import { resolvePath, withImpliedDirs } from '../../src/tree/resolve.js';
import { readContent, type FileTree, type TreeEntry } from '../../src/tree/types.js';
import { file, symlink, treeOf } from '../helpers/tree.js';
import { cc } from '../helpers/cc.js';
import { run } from '../helpers/cli.js';
import { tempDir } from '../helpers/tmp.js';

/**
 * Issue 21 §1: a self-contained layer (`--from`) carries its C library off Lambda's library path,
 * and its programs name the layer's loader. The C library here is this machine's own (Debian's
 * libc6 files), the program is compiled here.
 */

const M = 'x86_64-linux-gnu';
const layout = { triplet: M, keep: DEFAULT_KEEP };
function bytesAt(layer: FileTree, p: string): Buffer {
  const e = layer.get(p);
  if (e?.kind !== 'file') throw new Error(`${p} is not a file`);
  return readContent(e.content);
}

describe('privatizeLibraries', () => {
  it("moves the shared objects of the loader's package off /opt/lib, fixes links to them, and links the interpreter", () => {
    const placed = new Map<string, TreeEntry>(
      [
        file('/opt/lib/ld-linux-x86-64.so.2', 'ld', 0o755, 'libc6'),
        file('/opt/lib/libc.so.6', 'c', 0o755, 'libc6'),
        file('/opt/lib/libm.so.6', 'm', 0o644, 'libc6'),
        file('/opt/lib/gconv/UTF-16.so', 'g', 0o644, 'libc6'),
        file('/opt/lib/libz.so.1.2.13', 'z', 0o644, 'zlib1g'),
        symlink('/opt/lib/libz.so.1', 'libz.so.1.2.13', 'zlib1g'),
        symlink('/opt/lib/libc.so', 'libc.so.6', 'libc6-dev'),
        symlink('/opt/bin/ldd-loader', '../lib/ld-linux-x86-64.so.2', 'tool'),
      ].map((e) => [e.path, e]),
    );
    const r = privatizeLibraries(placed);
    expect(r).toEqual({
      package: 'libc6',
      loader: 'ld-linux-x86-64.so.2',
      moved: [
        { from: '/opt/lib/ld-linux-x86-64.so.2', to: '/opt/self/lib/ld-linux-x86-64.so.2' },
        { from: '/opt/lib/libc.so', to: '/opt/self/lib/libc.so' },
        { from: '/opt/lib/libc.so.6', to: '/opt/self/lib/libc.so.6' },
        { from: '/opt/lib/libm.so.6', to: '/opt/self/lib/libm.so.6' },
        { from: '/opt/lib/libz.so.1', to: '/opt/self/lib/libz.so.1' },
        { from: '/opt/lib/libz.so.1.2.13', to: '/opt/self/lib/libz.so.1.2.13' },
      ],
    });
    // no shared object is left where LD_LIBRARY_PATH looks; modules in subdirectories stay
    expect([...placed.keys()].filter((p) => /^\/opt\/lib\/[^/]*\.so/.test(p))).toEqual([]);
    expect(placed.get('/opt/lib/gconv/UTF-16.so')).toBeDefined();
    expect(placed.get('/opt/self/lib/libz.so.1')).toMatchObject({ target: 'libz.so.1.2.13' });
    expect(placed.get('/opt/self/lib/libc.so')).toMatchObject({ target: 'libc.so.6' });
    expect(placed.get('/opt/bin/ldd-loader')).toMatchObject({ target: '../self/lib/ld-linux-x86-64.so.2' });
    expect(placed.get(PRIVATE_INTERPRETER)).toMatchObject({ kind: 'symlink', target: 'ld-linux-x86-64.so.2' });
  });

  it('refuses a tree that ships no loader', () => {
    const placed = new Map<string, TreeEntry>([file('/opt/lib/libz.so.1', 'z', 0o644, 'zlib1g')].map((e) => [e.path, e]));
    expect(privatizeLibraries(placed)).toMatchObject({ error: expect.stringMatching(/no dynamic loader/) });
  });
});

describe('setInterpreter', () => {
  it('points PT_INTERP at a shorter path in place, and refuses a longer one', async () => {
    const prog = await cc('int main(void) { return 0; }\n', 'interp', ['-O2']);
    const r = setInterpreter(prog.data, '/opt/self/lib/ld.so');
    if ('error' in r) throw new Error(r.error);
    expect(r.data.length).toBe(prog.data.length);
    expect(parseElf(r.data).interpreter).toBe('/opt/self/lib/ld.so');
    expect(setInterpreter(prog.data, `/opt/${'x'.repeat(40)}`)).toMatchObject({ error: expect.stringMatching(/longer/) });
  });
});

describe('relocate with selfContained', () => {
  let prog: Buffer;
  beforeAll(async () => {
    prog = (await cc('#include <stdio.h>\nint main(void) { puts("hi"); return 0; }\n', 'selfc', ['-O2'])).data;
  }, 60_000);

  it("gives every program the layer's loader and an RPATH that searches the private C library first", async () => {
    const libc = readFileSync(`/lib/${M}/libc.so.6`);
    const loader = readFileSync(`/lib/${M}/ld-linux-x86-64.so.2`);
    const staged = treeOf([
      file(`/usr/lib/${M}/libc.so.6`, libc, 0o755, 'libc6'),
      file(`/usr/lib/${M}/ld-linux-x86-64.so.2`, loader, 0o755, 'libc6'),
      symlink('/usr/lib64/ld-linux-x86-64.so.2', `/lib/${M}/ld-linux-x86-64.so.2`, 'libc6'),
      file('/usr/bin/selfc', prog, 0o755, 'selfc'),
    ]);
    const { layer, report } = relocate({ staged, layout, recipes: [], shell: '/bin/sh', selfContained: true });
    const out = bytesAt(layer, '/opt/bin/selfc');
    const elf = parseElf(out);
    expect(elf.interpreter).toBe('/opt/self/lib/ld.so');
    expect(elf.dynamic?.rpath?.value).toBe('/opt/self/lib:/opt/lib');
    expect(resolvePath(withImpliedDirs(layer), '/opt/self/lib/ld.so')).toMatchObject({ kind: 'found', path: '/opt/self/lib/ld-linux-x86-64.so.2' });
    expect(layer.has('/opt/lib/libc.so.6')).toBe(false);
    expect(layer.get('/opt/self/lib/libc.so.6')).toMatchObject({ kind: 'file' });
    expect(report.cLibrary?.package).toBe('libc6');
    expect(report.binaries.interpreters.map((i) => [i.file, i.from])).toContainEqual(['/opt/bin/selfc', '/lib64/ld-linux-x86-64.so.2']);
    // readelf agrees
    const dir = tempDir('yumda-selfc-');
    writeFileSync(`${dir}/selfc`, out);
    const r = await run('readelf', ['-l', '-d', `${dir}/selfc`]);
    expect(r.stdout).toContain('[Requesting program interpreter: /opt/self/lib/ld.so]');
  });

  it('without selfContained, nothing of that happens', () => {
    const staged = treeOf([file('/usr/bin/selfc', prog, 0o755, 'selfc')]);
    const { layer, report } = relocate({ staged, layout, recipes: [], shell: '/bin/sh' });
    expect(parseElf(bytesAt(layer, '/opt/bin/selfc')).interpreter).toBe('/lib64/ld-linux-x86-64.so.2');
    expect(report.cLibrary).toBeUndefined();
  });

  it('a layer without a loader cannot be self-contained: one line', () => {
    const staged = treeOf([file('/usr/bin/selfc', prog, 0o755, 'selfc')]);
    expect(() => relocate({ staged, layout, recipes: [], shell: '/bin/sh', selfContained: true })).toThrow(
      /cannot make a self-contained layer: the packages ship no dynamic loader/,
    );
  });
});

describe('inProcessUse: can code load the layer libraries on the runtime C library?', () => {
  let lib: Buffer;
  beforeAll(async () => {
    // _dl_find_object is GLIBC_2.35: the library needs that version of libc.so.6
    lib = (
      await cc('#define _GNU_SOURCE\n#include <dlfcn.h>\nint probe(void *p) { struct dl_find_object o; return _dl_find_object(p, &o); }\n', 'libprobe.so.1', [
        '-shared',
        '-fPIC',
        '-O2',
      ])
    ).data;
  }, 60_000);

  const runtimeWith = (newest: string) => ({ id: 'rt', symbolVersions: [{ soname: 'libc.so.6', versions: ['GLIBC_2.2.5', 'GLIBC_2.34', newest] }] }) as unknown as Runtime;
  it.each([
    ['GLIBC_2.34', false],
    ['GLIBC_2.36', true],
  ])('a library that needs GLIBC_2.35, on a runtime whose newest is %s: usable %s', (newest, usable) => {
    const layer = treeOf([file('/opt/self/lib/libprobe.so.1', lib, 0o644, 'probe')]);
    expect(inProcessUse(layer, runtimeWith(newest))).toEqual({ needs: 'GLIBC_2.35', runtimeHas: newest, usable });
  });
});
