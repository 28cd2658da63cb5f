import { describe, expect, it } from 'vitest';
import { relocate } from '../../src/relocate/relocate.js';
import { DEFAULT_KEEP } from '../../src/relocate/placement.js';
import type { AppliedRecipe } from '../../src/recipes/types.js';
import { emptyRules } from '../../src/recipes/load.js';
import { readContent, type FileTree, type TreeEntry } from '../../src/tree/types.js';
import { dir, file, symlink, treeOf } from '../helpers/tree.js';
import { resolvePath, withImpliedDirs } from '../../src/tree/resolve.js';
import { cc, libAndProgram } from '../helpers/cc.js';

const layout = { triplet: 'x86_64-linux-gnu', keep: DEFAULT_KEEP };

function recipe(name: string, rules: Partial<AppliedRecipe['rules']>): AppliedRecipe {
  return {
    name,
    file: undefined,
    matchedPackage: name,
    matchedVersion: '1.0-1',
    rules: { ...emptyRules(), ...rules },
  };
}

function go(entries: TreeEntry[], recipes: AppliedRecipe[] = []) {
  return relocate({ staged: treeOf(entries), layout, recipes, shell: '/bin/sh' });
}

function text(tree: FileTree, p: string): string {
  const e = tree.get(p);
  if (e?.kind !== 'file') throw new Error(`${p} is not a file`);
  return readContent(e.content).toString('utf8');
}

describe('relocate', () => {
  it('places files and creates every parent directory', () => {
    const { layer } = go([file('/usr/bin/tool', '#!/bin/sh\n', 0o755), file('/usr/lib/x86_64-linux-gnu/libx.so.1', 'x')]);
    expect([...layer.keys()]).toEqual(['/opt/bin', '/opt/bin/tool', '/opt/lib', '/opt/lib/libx.so.1', '/opt/lib/x86_64-linux-gnu', '/opt/x86_64-linux-gnu']);
    expect(layer.get('/opt/bin/tool')).toMatchObject({ kind: 'file', mode: 0o755 });
    // the distribution's sub-path stays reachable: /opt/lib/x86_64-linux-gnu/libx.so.1 is the library
    expect(resolvePath(withImpliedDirs(layer), '/opt/lib/x86_64-linux-gnu/libx.so.1')).toMatchObject({ kind: 'found', path: '/opt/lib/libx.so.1' });
  });

  it('turns absolute symlinks into relative links inside /opt', () => {
    const { layer } = go([
      file('/usr/share/fontconfig/conf.avail/10-a.conf', '<fontconfig/>'),
      symlink('/etc/fonts/conf.d/10-a.conf', '/usr/share/fontconfig/conf.avail/10-a.conf'),
    ]);
    const link = layer.get('/opt/etc/fonts/conf.d/10-a.conf');
    expect(link).toEqual({ kind: 'symlink', path: '/opt/etc/fonts/conf.d/10-a.conf', target: '../../../share/fontconfig/conf.avail/10-a.conf' });
    expect(resolvePath(withImpliedDirs(layer), '/opt/etc/fonts/conf.d/10-a.conf')).toMatchObject({ kind: 'found', path: '/opt/share/fontconfig/conf.avail/10-a.conf' });
  });

  it('re-resolves relative links whose two ends move differently', () => {
    // /usr/bin/x -> ../lib/x86_64-linux-gnu/x/bin/x: /usr/bin and /usr/lib/<triplet> both move
    const { layer } = go([file('/usr/lib/x86_64-linux-gnu/x/bin/x', 'x', 0o755), symlink('/usr/bin/x', '../lib/x86_64-linux-gnu/x/bin/x')]);
    expect(layer.get('/opt/bin/x')).toMatchObject({ target: '../lib/x/bin/x' });
    expect(resolvePath(withImpliedDirs(layer), '/opt/bin/x')).toMatchObject({ kind: 'found', path: '/opt/lib/x/bin/x' });
  });

  it('drops links whose target the layer does not ship, and links to those', () => {
    const { layer, report } = go([
      symlink('/usr/lib/x86_64-linux-gnu/libz.so', 'libz.so.1'),
      symlink('/usr/lib/x86_64-linux-gnu/libzz.so', 'libz.so'),
      symlink('/usr/share/doc/x/changelog.gz', '/usr/share/doc/y/changelog.gz'),
      file('/usr/bin/keep', 'k'),
    ]);
    expect(layer.has('/opt/lib/libz.so')).toBe(false);
    expect(layer.has('/opt/lib/libzz.so')).toBe(false);
    expect(report.droppedLinks.map((l) => l.path).sort()).toEqual(['/usr/lib/x86_64-linux-gnu/libz.so', '/usr/lib/x86_64-linux-gnu/libzz.so']);
    expect(report.dropped.docs?.files).toBe(1);
  });

  it('rewrites shipped paths and state paths in config files, not the rest', () => {
    const conf = '<dir>/usr/share/fonts</dir>\n<dir>/usr/local/share/fonts</dir>\n<cachedir>/var/cache/fontconfig</cachedir>\n<include>/usr/share/absent/x.conf</include>\n';
    const { layer, report } = go([file('/etc/fonts/fonts.conf', conf), file('/usr/share/fonts/truetype/a.ttf', 'ttf')]);
    expect(text(layer, '/opt/etc/fonts/fonts.conf')).toBe(
      '<dir>/opt/share/fonts</dir>\n<dir>/usr/local/share/fonts</dir>\n<cachedir>/tmp/cache/fontconfig</cachedir>\n<include>/usr/share/absent/x.conf</include>\n',
    );
    expect(report.rewritten).toHaveLength(2);
  });

  it('rewrites shipped paths in any text file, state paths only in config files or where the package has them', () => {
    const entries = [
      file('/usr/share/x/data', 'd'),
      file('/usr/share/x/settings.ini', 'path=/usr/share/x/data\ncache=/var/cache/x\nlog=/var/log/x.log\n'),
      file('/usr/bin/x-script', '#!/usr/bin/x-interp\nexec /usr/share/x/data /var/lib/x/state\n', 0o755),
      file('/usr/bin/x-interp', 'binary', 0o755),
      dir('/var/lib/x'),
    ];
    const { layer } = go(entries);
    expect(text(layer, '/opt/share/x/settings.ini')).toBe('path=/opt/share/x/data\ncache=/var/cache/x\nlog=/var/log/x.log\n');
    expect(text(layer, '/opt/bin/x-script')).toBe('#!/opt/bin/x-interp\nexec /opt/share/x/data /tmp/lib/x/state\n');
    const asConfig = go(entries, [recipe('x', { rewrite: ['/usr/share/x/*.ini'] })]);
    expect(text(asConfig.layer, '/opt/share/x/settings.ini')).toBe('path=/opt/share/x/data\ncache=/tmp/cache/x\nlog=/tmp/log/x.log\n');
  });

  it('points pkg-config and libtool files at the layer', () => {
    const pc = 'prefix=/usr\nlibdir=${prefix}/lib/x86_64-linux-gnu\nincludedir=${prefix}/include\nLibs: -L${libdir} -lx\n';
    const la = "libdir='/usr/lib/x86_64-linux-gnu'\ndependency_libs=' -L/usr/lib/x86_64-linux-gnu /usr/lib/x86_64-linux-gnu/liby.la'\n";
    const { layer } = go([file('/usr/lib/x86_64-linux-gnu/pkgconfig/x.pc', pc), file('/usr/lib/x86_64-linux-gnu/libx.la', la)]);
    expect(text(layer, '/opt/lib/pkgconfig/x.pc')).toBe('prefix=/opt\nlibdir=${prefix}/lib\nincludedir=${prefix}/include\nLibs: -L${libdir} -lx\n');
    expect(text(layer, '/opt/lib/libx.la')).toBe("libdir='/opt/lib'\ndependency_libs=' -L/opt/lib /opt/lib/liby.la'\n");
  });

  it('makes the links that alternatives would have made', () => {
    const { layer, report } = relocate({
      staged: treeOf([file('/usr/bin/convert-im6.q16', 'elf', 0o755), file('/usr/bin/convert-im7', 'elf7', 0o755)]),
      layout,
      recipes: [],
      shell: '/bin/sh',
      alternatives: [
        { name: 'convert', link: '/usr/bin/convert', path: '/usr/bin/convert-im6.q16', priority: 10000 },
        { name: 'convert', link: '/usr/bin/convert', path: '/usr/bin/convert-im7', priority: 100 },
        { name: 'absent', link: '/usr/bin/absent', path: '/usr/bin/not-staged', priority: 1 },
      ],
    });
    expect(layer.get('/opt/bin/convert')).toMatchObject({ kind: 'symlink', target: 'convert-im6.q16' });
    expect(layer.has('/opt/bin/absent')).toBe(false);
    expect(report.alternatives).toEqual([{ link: '/usr/bin/convert', path: '/usr/bin/convert-im6.q16' }]);
  });

  it('applies recipe drop, keep and generate', () => {
    const { layer, report } = go(
      [file('/usr/share/x/big.dat', 'big'), file('/usr/share/doc/x/README', 'readme'), file('/usr/share/x/small.dat', 's')],
      [recipe('x', { drop: ['/usr/share/x/big.*'], keep: ['/usr/share/doc/x/README'], generate: [{ path: '/opt/etc/x.conf', content: 'a=1\n', mode: '0600' }] })],
    );
    expect(layer.has('/opt/share/x/big.dat')).toBe(false);
    expect(layer.has('/opt/share/doc/x/README')).toBe(true);
    expect(layer.get('/opt/etc/x.conf')).toMatchObject({ kind: 'file', mode: 0o600 });
    expect(report.dropped.recipe?.files).toBe(1);
  });

  it('keeps the more specific of two paths landing on one place, and reports real conflicts', () => {
    const { layer, report } = go([file('/usr/lib/libq.so.1', 'generic'), file('/usr/lib/x86_64-linux-gnu/libq.so.1', 'multiarch'), dir('/usr/lib')]);
    expect(text(layer, '/opt/lib/libq.so.1')).toBe('multiarch');
    expect(report.collisions).toEqual([{ to: '/opt/lib/libq.so.1', kept: '/usr/lib/x86_64-linux-gnu/libq.so.1', lost: '/usr/lib/libq.so.1' }]);
  });

  it('a link to the path that wins is no conflict (merged /usr: /lib64/ld-linux-x86-64.so.2)', () => {
    const { layer, report } = go([
      file('/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2', 'ld', 0o755),
      symlink('/lib64/ld-linux-x86-64.so.2', '/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2'),
    ]);
    expect(text(layer, '/opt/lib/ld-linux-x86-64.so.2')).toBe('ld');
    expect(report.collisions).toEqual([]);
  });

  it('wraps executables that load a library whose recipe sets environment variables', async () => {
    const { lib, prog } = await libAndProgram();
    const { layer, report } = go(
      [file('/usr/lib/x86_64-linux-gnu/libanswer.so.1', lib, 0o644, 'libanswer1'), file('/usr/bin/prog', prog, 0o755, 'prog'), file('/usr/bin/other', '#!/bin/sh\necho\n', 0o755)],
      [recipe('answer', { env: { ANSWER_CONF: "/opt/etc/answer's" }, envFor: { sonames: ['libanswer.so.1'], programs: [] } })],
    );
    expect(report.wrapped).toEqual([{ program: '/opt/bin/prog', real: '/opt/bin/.prog.real', env: ['ANSWER_CONF'] }]);
    expect(layer.get('/opt/bin/.prog.real')).toMatchObject({ kind: 'file', mode: 0o755 });
    const script = text(layer, '/opt/bin/prog');
    expect(script.split('\n')[0]).toBe('#!/bin/sh');
    expect(script).toContain('exec /opt/bin/.prog.real "$@"');
    expect(text(layer, '/opt/bin/other')).toBe('#!/bin/sh\necho\n');
    expect(text(layer, '/opt/.yumda/env')).toContain("ANSWER_CONF=/opt/etc/answer's");
  });

  it("edits a binary in a copy of its own: every path rewritten, the staged bytes (the cache's) untouched", async () => {
    // three paths in one binary: each edit lands in the same copy, none in the staged content
    // (/etc/tool.conf keeps its tail: /opt/tool.conf, with a link to etc/tool.conf)
    const { data } = await cc(
      'const char *a = "/usr/share/tool/a.dat"; const char *b = "/usr/share/tool/b.dat"; const char *c = "/etc/tool.conf";\n' +
        'int main(void) { return a[0] + b[0] + c[0] == 0; }\n',
      'tool',
      [],
    );
    const staged = Buffer.from(data);
    const { layer, report } = go([
      file('/usr/bin/tool', staged, 0o755, 'tool'),
      file('/usr/share/tool/a.dat', 'a'),
      file('/usr/share/tool/b.dat', 'b'),
      file('/etc/tool.conf', 'c'),
    ]);
    expect(staged.equals(data)).toBe(true);
    const out = (layer.get('/opt/bin/tool') as { content: Parameters<typeof readContent>[0] }).content;
    const relocated = readContent(out).toString('latin1');
    expect(report.binaries.rewrittenPaths.map((r) => r.to).sort()).toEqual(['/opt/share/tool/a.dat', '/opt/share/tool/b.dat', '/opt/tool.conf']);
    for (const p of ['/opt/share/tool/a.dat', '/opt/share/tool/b.dat', '/opt/tool.conf']) expect(relocated).toContain(`${p}\0`);
    expect(relocated).not.toContain('/usr/share/tool/');
  });
});
