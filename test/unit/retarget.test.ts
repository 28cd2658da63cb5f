import { describe, expect, it } from 'vitest';
import { retargetString, retargetTree, topLevelNames, treeAddresses } from '../../src/pack/retarget.js';
import { readContent } from '../../src/tree/types.js';
import { dir, file, symlink, treeOf } from '../helpers/tree.js';

const TOP = new Set(['bin', 'etc', 'lib', 'share']);

describe('treeAddresses: which /opt strings are addresses of the packed tree', () => {
  it.each([
    ['a library path in a binary', '\0/opt/lib/libfoo.so\0', '\0/tmp/lib/libfoo.so\0'],
    ['a RUNPATH with $ORIGIN first', '$ORIGIN/../lib:/opt/lib\0', '$ORIGIN/../lib:/opt/lib\0'.replace('/opt', '/tmp')],
    ['a top-level name alone', '/opt/share\0', '/tmp/share\0'],
    ['an environment assignment', 'FONTCONFIG_PATH=/opt/etc/fonts\n', 'FONTCONFIG_PATH=/tmp/etc/fonts\n'],
    ['the bare prefix a directory rewrite left', '\0/opt\0', '\0/tmp\0'],
    ['the prefix with a trailing slash', '"/opt/"', '"/tmp/"'],
    ['a libdir padded with slashes', '/opt/lib/////////\0', '/tmp/lib/////////\0'],
    ['pkg-config prefix=', 'prefix=/opt\nlibdir=/opt/lib\n', 'prefix=/tmp\nlibdir=/tmp/lib\n'],
    ['two in one line', 'exec /opt/bin/x --data=/opt/share/x', 'exec /tmp/bin/x --data=/tmp/share/x'],
    ['a file:// URL', 'BRAND_BASE_DIR=file:///opt/lib/libreoffice\n', 'BRAND_BASE_DIR=file:///tmp/lib/libreoffice\n'],
    ['another /opt directory stays', '/opt/google/chrome\0', '/opt/google/chrome\0'],
    ["yumda's own directory stays", '/opt/.yumda/env\0', '/opt/.yumda/env\0'],
    ['a longer name that starts like a top-level one stays', '/opt/library\0', '/opt/library\0'],
    ['inside another path stays', '/usr/opt/lib\0 /x/opt\0', '/usr/opt/lib\0 /x/opt\0'],
    ['a word that ends in /opt stays', 'adopt/opt/lib', 'adopt/opt/lib'],
    ['a name continuing the prefix stays', '/optional/lib /opts\0', '/optional/lib /opts\0'],
  ])('%s', (_what, from, to) => {
    const buf = Buffer.from(from, 'latin1');
    for (const i of treeAddresses(buf, TOP)) buf.write('/tmp', i, 'latin1');
    expect(buf.toString('latin1')).toBe(to);
    expect(buf.length).toBe(Buffer.byteLength(from, 'latin1'));
  });
});

describe('retargetTree', () => {
  it('rewrites file contents and absolute links in place, keeps sizes, modes and relative links, and reports what moved', () => {
    const elf = Buffer.concat([Buffer.from('\x7fELF'), Buffer.alloc(8), Buffer.from('/opt/lib\0/opt/share/fonts\0/opt/google\0')]);
    const tree = treeOf([
      dir('/opt/bin'),
      file('/opt/bin/prog', elf, 0o755),
      file('/opt/bin/wrapper', '#!/bin/sh\nexec /opt/bin/.prog.real "$@"\n', 0o755),
      file('/opt/share/data.txt', 'nothing here'),
      symlink('/opt/lib/libfoo.so', 'libfoo.so.1'),
      symlink('/opt/etc/abs', '/opt/share/data.txt'),
      file('/opt/etc/fonts/fonts.conf', '<dir>/opt/share/fonts</dir>'),
    ]);
    const { tree: out, report } = retargetTree(tree);
    const text = (p: string) => {
      const e = out.get(p)!;
      return e.kind === 'file' ? readContent(e.content).toString('latin1') : '';
    };
    expect(text('/opt/bin/prog')).toContain('/tmp/lib\0/tmp/share/fonts\0/opt/google\0');
    expect(text('/opt/bin/prog').length).toBe(elf.length);
    expect(out.get('/opt/bin/prog')).toMatchObject({ mode: 0o755, size: elf.length });
    expect(text('/opt/bin/wrapper')).toBe('#!/bin/sh\nexec /tmp/bin/.prog.real "$@"\n');
    expect(out.get('/opt/share/data.txt')).toBe(tree.get('/opt/share/data.txt'));
    expect(out.get('/opt/lib/libfoo.so')).toEqual(symlink('/opt/lib/libfoo.so', 'libfoo.so.1'));
    expect(out.get('/opt/etc/abs')).toEqual(symlink('/opt/etc/abs', '/tmp/share/data.txt'));
    expect(text('/opt/etc/fonts/fonts.conf')).toBe('<dir>/tmp/share/fonts</dir>');
    expect(report.files).toEqual([
      { path: '/opt/bin/prog', count: 2 },
      { path: '/opt/bin/wrapper', count: 1 },
      { path: '/opt/etc/fonts/fonts.conf', count: 1 },
    ]);
    expect(report.links).toEqual(['/opt/etc/abs']);
    // the input tree is untouched
    const orig = tree.get('/opt/bin/wrapper')!;
    expect(orig.kind === 'file' && readContent(orig.content).toString()).toContain('/opt/bin/.prog.real');
  });

  it('names the top-level entries, and retargets a single value', () => {
    const tree = treeOf([dir('/opt/bin'), file('/opt/lib/x.so', ''), file('/opt/share/a/b', '')]);
    expect(topLevelNames(tree)).toEqual(['bin', 'lib', 'share']);
    expect(retargetString('/opt/share/fonts:/opt/etc/x', new Set(topLevelNames(tree)))).toBe('/tmp/share/fonts:/opt/etc/x');
  });
});
