import { readFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { checkClosure, leaveOutUnloadableModules } from '../../src/check/closure.js';
import { bytes, type FileTree, type TreeEntry } from '../../src/tree/types.js';
import { symlink } from '../helpers/tree.js';
import { cc } from '../helpers/cc.js';
import { tempDir } from '../helpers/tmp.js';

/**
 * Issue 12, class 1: optional modules whose libraries nothing installs are left out, not shipped
 * to fail the closure check; a library in a private directory counts as present. The ELF files
 * are compiled here: a program, its library, plugins that need a library that is nowhere, a
 * library only such a plugin needs, and a module that needs a library kept off the search path.
 */
const dir = tempDir('yumda-modules-');
const built = new Map<string, Buffer>();
const lib = async (name: string, soname: string, needs: string[] = []) => {
  const r = await cc(
    'int f_' + name.replace(/\W/g, '_') + '(void) { return 1; }\n',
    name,
    ['-shared', '-fPIC', `-Wl,-soname,${soname}`, '-Wl,--no-as-needed', `-L${dir}`, ...needs.map((n) => `-l:${n}`)],
    dir,
  );
  built.set(name, r.data);
};

beforeAll(async () => {
  await lib('libmissing.so.1', 'libmissing.so.1');
  await lib('libvm.so.3', 'libvm.so.3');
  await lib('libok.so.1', 'libok.so.1');
  await lib('libhelper.so.1', 'libhelper.so.1', ['libmissing.so.1']);
  await lib('libplugin.so', 'libplugin.so', ['libmissing.so.1']);
  await lib('plugin2.so', 'plugin2.so', ['libhelper.so.1']);
  await lib('usesvm.so', 'usesvm.so', ['libvm.so.3']);
  const prog = await cc('int f_libok_so_1(void);\nint main(void) { return f_libok_so_1() - 1; }\n', 'prog', ['-Wl,--no-as-needed', `-L${dir}`, '-l:libok.so.1'], dir);
  built.set('prog', prog.data);
  const bad = await cc(
    'int f_libmissing_so_1(void);\nint main(void) { return f_libmissing_so_1() - 1; }\n',
    'needs-missing',
    ['-Wl,--no-as-needed', `-L${dir}`, '-l:libmissing.so.1'],
    dir,
  );
  built.set('needs-missing', bad.data);
  const usesHelper = await cc(
    'int f_libhelper_so_1(void);\nint main(void) { return f_libhelper_so_1() - 1; }\n',
    'uses-helper',
    ['-Wl,--no-as-needed', `-L${dir}`, `-Wl,-rpath-link,${dir}`, '-l:libhelper.so.1'],
    dir,
  );
  built.set('uses-helper', usesHelper.data);
}, 60_000);

const elf = (p: string, name: string, mode = 0o644): TreeEntry => {
  const data = built.get(name) ?? readFileSync(path.join(dir, name));
  return { kind: 'file', path: p, mode, size: data.length, content: bytes(data) };
};

function layer(extra: TreeEntry[] = []): FileTree {
  const entries = [
    elf('/opt/bin/prog', 'prog', 0o755),
    elf('/opt/lib/libok.so.1', 'libok.so.1'),
    elf('/opt/lib/libhelper.so.1', 'libhelper.so.1'),
    symlink('/opt/lib/libhelper.so', 'libhelper.so.1'),
    elf('/opt/lib/tool/plugins/libplugin.so', 'libplugin.so'),
    elf('/opt/lib/tool/plugins/plugin2.so', 'plugin2.so'),
    elf('/opt/lib/tool/private/libvm.so.3', 'libvm.so.3'),
    elf('/opt/lib/tool/plugins/usesvm.so', 'usesvm.so'),
    ...extra,
  ];
  return new Map(entries.map((e) => [e.path, e]));
}

describe('modules whose libraries are nowhere', () => {
  it('are left out, with the libraries only they needed, and the links to them', () => {
    const l = layer();
    expect(checkClosure(l, ['libc.so.6']).missing.map((m) => `${m.file} ${m.soname}`)).toEqual([
      '/opt/lib/libhelper.so.1 libmissing.so.1',
      '/opt/lib/tool/plugins/libplugin.so libmissing.so.1',
    ]);
    const leftOut = leaveOutUnloadableModules(l, ['libc.so.6']);
    expect(leftOut).toEqual([
      { file: '/opt/lib/libhelper.so.1', soname: 'libmissing.so.1' },
      { file: '/opt/lib/tool/plugins/libplugin.so', soname: 'libmissing.so.1' },
      { file: '/opt/lib/tool/plugins/plugin2.so', soname: 'libhelper.so.1' },
    ]);
    expect([...l.keys()].sort()).toEqual(['/opt/bin/prog', '/opt/lib/libok.so.1', '/opt/lib/tool/plugins/usesvm.so', '/opt/lib/tool/private/libvm.so.3']);
    expect(checkClosure(l, ['libc.so.6']).missing).toEqual([]);
  });

  it('a library kept in a private directory, off every search path, counts as present', () => {
    const l = layer();
    expect(checkClosure(l, ['libc.so.6']).missing.filter((m) => m.file.endsWith('usesvm.so'))).toEqual([]);
    leaveOutUnloadableModules(l, ['libc.so.6']);
    expect(l.has('/opt/lib/tool/plugins/usesvm.so')).toBe(true);
  });

  it('an executable, and a library it links, are never left out: their missing libraries stay the closure check to report', () => {
    const l = layer([elf('/opt/bin/needs-missing', 'needs-missing', 0o755)]);
    const leftOut = leaveOutUnloadableModules(l, ['libc.so.6']);
    expect(leftOut.map((m) => m.file)).not.toContain('/opt/bin/needs-missing');
    expect(l.has('/opt/bin/needs-missing')).toBe(true);
    expect(checkClosure(l, ['libc.so.6']).missing).toEqual([{ file: '/opt/bin/needs-missing', soname: 'libmissing.so.1' }]);
  });

  it('a library a program links is kept even when it lacks one: the program would fail without it', () => {
    const l = layer([elf('/opt/bin/uses-helper', 'uses-helper', 0o755)]);
    const leftOut = leaveOutUnloadableModules(l, ['libc.so.6']).map((m) => m.file);
    expect(leftOut).not.toContain('/opt/lib/libhelper.so.1');
    expect(leftOut).toContain('/opt/lib/tool/plugins/libplugin.so');
    expect(l.has('/opt/lib/libhelper.so.1')).toBe(true);
    expect(checkClosure(l, ['libc.so.6']).missing).toEqual([{ file: '/opt/lib/libhelper.so.1', soname: 'libmissing.so.1' }]);
  });
});
