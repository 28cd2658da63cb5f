import { beforeAll, describe, expect, it } from 'vitest';
import { relocate } from '../../src/relocate/relocate.js';
import { DEFAULT_KEEP } from '../../src/relocate/placement.js';
import { resolvePath, withImpliedDirs } from '../../src/tree/resolve.js';
import { readContent, type FileTree, type TreeEntry } from '../../src/tree/types.js';
import { file, treeOf } from '../helpers/tree.js';
import { cc } from '../helpers/cc.js';
import { tempDir } from '../helpers/tmp.js';
import { dirPrograms, holding, holdingLib, type DirPrograms } from '../helpers/dir-programs.js';

/**
 * Issue 12, class 2: bare directories compiled into binaries (bindir, libdir, the prefix) move
 * to the layer when the binary names what the layer ships in them. The binaries are compiled
 * here; the assertions read the relocated bytes.
 */

const layout = { triplet: 'x86_64-linux-gnu', keep: DEFAULT_KEEP };

function bytesOf(tree: FileTree, p: string): Buffer {
  const e = tree.get(p);
  if (e?.kind !== 'file') throw new Error(`${p} is not a file`);
  return readContent(e.content);
}

/** The string occurs whole (NUL before and after) in the file. */
const hasString = (buf: Buffer, s: string) => buf.includes(Buffer.from(`\0${s}\0`, 'latin1'));

interface Case {
  name: string;
  /** Strings compiled into /usr/bin/tool (package `tool`). */
  program: string[];
  /** Strings compiled into a library the tool links (/usr/lib/<triplet>/libheld.so.1), and its package. */
  lib?: { strings: string[]; pkg: string };
  /** Other files of the packages. */
  staged: string[];
  /** Rewrites of the tool's strings (from → to), in any order; [] when none. */
  rewrites: Array<[string, string]>;
  /** Strings reported as not rewritable. */
  cannot?: string[];
  /** Paths a kept tail spells, and the layer path each must lead to through the layer's links. */
  reach?: Array<[string, string]>;
  /** Whole strings the relocated tool has where a program string changed inside (a key's value). */
  after?: string[];
}

const M = 'x86_64-linux-gnu';

const CASES: Case[] = [
  { name: 'bindir joined to a helper the layer ships', program: ['/usr/bin', 'mytool-helper'], staged: ['/usr/bin/mytool-helper'], rewrites: [['/usr/bin', '/opt/bin']] },
  { name: 'bindir with a trailing slash', program: ['/usr/bin/', 'mytool-helper'], staged: ['/usr/bin/mytool-helper'], rewrites: [['/usr/bin/', '/opt/bin/']] },
  {
    name: 'libdir joined to <name>-modules-X.Y',
    program: [`/usr/lib/${M}`, 'modfmt-modules-1.2'],
    staged: [`/usr/lib/${M}/modfmt-modules-1.2/png.mod`],
    rewrites: [[`/usr/lib/${M}`, `/opt/././${M}`]],
    reach: [
      [`/opt/${M}/modfmt-modules-1.2/png.mod`, '/opt/lib/modfmt-modules-1.2/png.mod'],
      [`/opt/lib/${M}/modfmt-modules-1.2/png.mod`, '/opt/lib/modfmt-modules-1.2/png.mod'],
    ],
  },
  { name: 'prefix joined to a relative path (git)', program: ['/usr', 'share/mytool/templates'], staged: ['/usr/share/mytool/templates/a'], rewrites: [['/usr', '/opt']] },
  {
    name: 'libexecdir with a full path right in it',
    program: ['/usr/libexec', '/usr/libexec/mytool-2'],
    staged: ['/usr/libexec/mytool-2'],
    rewrites: [['/usr/libexec', '/opt/libexec']],
  },
  {
    name: 'lib64 as libdir',
    program: ['/usr/lib64', 'mytool-plugins'],
    staged: ['/usr/lib64/mytool-plugins/a.so'],
    rewrites: [['/usr/lib64', '/opt/lib64']],
    reach: [['/opt/lib64/mytool-plugins/a.so', '/opt/lib/mytool-plugins/a.so']],
  },
  {
    name: 'sbindir joined to a helper the layer ships',
    program: ['/usr/sbin', 'mytool-daemon'],
    staged: ['/usr/sbin/mytool-daemon'],
    rewrites: [['/usr/sbin', '/opt/sbin']],
    reach: [['/opt/sbin/mytool-daemon', '/opt/bin/mytool-daemon']],
  },
  {
    name: 'a path relative to the prefix whose multiarch directory goes',
    program: [`lib/${M}/relmod-1.0`],
    staged: [`/usr/lib/${M}/relmod-1.0/x`],
    // `lib` becomes `./.`: one directory less to climb, and from the prefix a link leads it to lib
    rewrites: [[`lib/${M}/relmod-1.0`, `././${M}/relmod-1.0`]],
    reach: [[`/opt/${M}/relmod-1.0/x`, '/opt/lib/relmod-1.0/x']],
  },
  {
    name: 'libdir, relative to the prefix, when the binary names what the layer ships in it',
    program: [`lib/${M}`, 'relmod-1.0'],
    staged: [`/usr/lib/${M}/relmod-1.0/x`],
    rewrites: [[`lib/${M}`, `././${M}`]],
    reach: [[`/opt/${M}/relmod-1.0/x`, '/opt/lib/relmod-1.0/x']],
  },
  {
    name: 'a directory whose names come from a library of the same package',
    program: ['/usr/libexec'],
    lib: { strings: ['via-helper-2'], pkg: 'tool' },
    staged: ['/usr/libexec/via-helper-2'],
    rewrites: [['/usr/libexec', '/opt/libexec']],
  },
  {
    // Qt keeps its prefix after a key and joins lib/<triplet>/qt5/plugins to it
    name: 'a prefix kept after a key (qt_prfxpath=/usr)',
    program: ['qt_prfxpath=/usr', `lib/${M}/qt5/plugins`],
    staged: [`/usr/lib/${M}/qt5/plugins/platforms/libqoffscreen.so`],
    rewrites: [
      ['/usr', '/opt'],
      [`lib/${M}/qt5/plugins`, `././${M}/qt5/plugins`],
    ],
    after: ['qt_prfxpath=/opt'],
    reach: [[`/opt/${M}/qt5/plugins/platforms/libqoffscreen.so`, '/opt/lib/qt5/plugins/platforms/libqoffscreen.so']],
  },
  {
    // gpg starts dirmngr from its compiled-in bindir
    name: 'bindir joined to a helper with a plain-word name the layer ships there',
    program: ['/usr/bin', 'dirmngr'],
    staged: ['/usr/bin/dirmngr'],
    rewrites: [['/usr/bin', '/opt/bin']],
  },
  // left alone
  { name: 'a plain word of three letters is no evidence, even shipped', program: ['/usr/bin', 'gzz'], staged: ['/usr/bin/gzz'], rewrites: [] },
  { name: 'a key before a path that is no hierarchy root', program: ['qt_docpath=/usr/share/doc/qt5x'], staged: ['/usr/bin/mytool-helper'], rewrites: [] },
  { name: 'bindir used to find env, which the layer does not ship', program: ['/usr/bin', 'env'], staged: ['/usr/bin/mytool-helper'], rewrites: [] },
  { name: 'bindir joined to a name the layer does not ship', program: ['/usr/bin', 'other-helper-1'], staged: ['/usr/bin/mytool-helper'], rewrites: [] },
  { name: 'a plain word that happens to be a shipped file (an fopen mode)', program: ['/usr/bin', 'w'], staged: ['/usr/bin/w'], rewrites: [] },
  { name: 'the prefix, with a full path deep below it only', program: ['/usr', '/usr/lib/mytool/x'], staged: ['/usr/lib/mytool/x'], rewrites: [] },
  {
    name: 'a library of another package naming the files',
    program: ['/usr/libexec'],
    lib: { strings: ['via-helper-2'], pkg: 'libvia' },
    staged: ['/usr/libexec/via-helper-2'],
    rewrites: [],
  },
  { name: 'a relative path the layer does not ship', program: [`lib/${M}/absent-1.0`], staged: [`/usr/lib/${M}/relmod-1.0/x`], rewrites: [] },
  { name: 'a shipped directory dropped from the layer (docs)', program: ['/usr/share', 'doc/mytool'], staged: ['/usr/share/doc/mytool/README'], rewrites: [] },
  // named, but the new place does not fit
  { name: 'sysconfdir, whose new place /opt/etc is longer', program: ['/etc', 'mytool.conf'], staged: ['/etc/mytool.conf'], rewrites: [], cannot: ['/etc'] },
];

describe('bare directories compiled into binaries', () => {
  const built = new Map<string, { prog: Buffer; lib?: Buffer }>();
  beforeAll(async () => {
    for (const c of CASES) {
      const dir = tempDir('yumda-dirs-');
      const lib = c.lib ? (await cc(holdingLib(c.lib.strings), 'libheld.so.1', ['-O0', '-shared', '-fPIC', '-Wl,-soname,libheld.so.1'], dir)).data : undefined;
      const prog = await cc(holding(c.program, !!lib), 'tool', ['-O0', ...(lib ? [`-L${dir}`, '-l:libheld.so.1', `-Wl,-rpath-link,${dir}`] : [])], dir);
      built.set(c.name, { prog: prog.data, ...(lib ? { lib } : {}) });
    }
  }, 120_000);

  it.each(CASES)('$name', (c) => {
    const { prog, lib } = built.get(c.name)!;
    const entries: TreeEntry[] = [file('/usr/bin/tool', prog, 0o755, 'tool'), ...c.staged.map((p) => file(p, 'x', 0o755, 'tool'))];
    if (lib) entries.push(file(`/usr/lib/${M}/libheld.so.1`, lib, 0o644, c.lib!.pkg));
    const { layer, report } = relocate({ staged: treeOf(entries), layout, recipes: [], shell: '/bin/sh' });
    const out = bytesOf(layer, '/opt/bin/tool');
    const dirs = report.binaries.rewrittenDirs.filter((d) => d.file === '/opt/bin/tool');
    expect(dirs.map((d) => [d.from, d.to]).sort()).toEqual([...c.rewrites].sort());
    for (const [from, to] of c.rewrites) {
      expect(to.length).toBe(from.length);
      // a value after a key is no whole string of its own: `after` says what the whole one is
      if (c.after && c.program.some((s) => s !== from && s.endsWith(from))) continue;
      expect(hasString(out, to), `${to} in the relocated tool`).toBe(true);
      expect(hasString(out, from), `${from} left in the relocated tool`).toBe(false);
    }
    for (const s of c.after ?? []) expect(hasString(out, s), s).toBe(true);
    // what is not rewritten keeps its bytes
    for (const s of c.program.filter((s) => !c.rewrites.some(([from]) => s.endsWith(from)))) {
      if (!report.binaries.rewrittenPaths.some((r) => r.file === '/opt/bin/tool' && r.from === s)) expect(hasString(out, s), s).toBe(true);
    }
    expect(report.binaries.unrewritable.filter((u) => u.file === '/opt/bin/tool').map((u) => u.path)).toEqual(c.cannot ?? []);
    // every rewrite says which path of the layer made the rule apply
    for (const d of dirs) expect(d.because).toMatch(/\/usr\//);
    // a rewrite changes only the root: every byte after it is the original's (linkers merge tails)
    for (const [from, to] of c.rewrites) {
      // the root, and `lib` of lib/<triplet> (the first component of the prefix-relative tail)
      const kept = from.startsWith(`/usr/lib/${M}`) ? 8 : from.startsWith(`lib/${M}`) ? 3 : from.indexOf('/', 1) < 0 ? from.length : from.indexOf('/', 1);
      expect(to.slice(kept), `${from} → ${to}`).toBe(from.slice(kept));
    }
    const lookup = withImpliedDirs(layer);
    for (const [spelled, real] of c.reach ?? []) expect(resolvePath(lookup, spelled), spelled).toMatchObject({ kind: 'found', path: real });
  });
});

describe("the issue's two programs, relocated", () => {
  let p: DirPrograms;
  beforeAll(async () => {
    p = await dirPrograms();
  }, 60_000);

  it("a tool running helpers from its bindir and a library finding modules under its libdir get the layer's directories", () => {
    const staged = treeOf([
      file('/usr/bin/mytool', p.helperTool, 0o755, 'mytool'),
      file('/usr/bin/mytool-helper', '#!/bin/sh\necho "helper ran as $0"\n', 0o755, 'mytool'),
      file(`/usr/lib/${M}/libmodfmt.so.1`, p.moduleLib, 0o644, 'libmodfmt1'),
      file(`/usr/lib/${M}/modfmt-modules-1.2/png.mod`, 'png', 0o644, 'libmodfmt1'),
      file('/usr/bin/modcat', p.moduleProgram, 0o755, 'modcat'),
    ]);
    const { layer, report } = relocate({ staged, layout, recipes: [], shell: '/bin/sh' });
    expect(report.binaries.rewrittenDirs.map((d) => [d.file, d.from, d.to, d.because])).toEqual([
      ['/opt/bin/mytool', '/usr/bin', '/opt/bin', 'names /usr/bin/mytool-helper'],
      ['/opt/lib/libmodfmt.so.1', `/usr/lib/${M}`, `/opt/././${M}`, `names /usr/lib/${M}/modfmt-modules-1.2`],
    ]);
    expect(hasString(bytesOf(layer, '/opt/bin/mytool'), '/opt/bin')).toBe(true);
    expect(hasString(bytesOf(layer, '/opt/lib/libmodfmt.so.1'), `/opt/././${M}`)).toBe(true);
    expect(layer.get(`/opt/${M}`)).toMatchObject({ kind: 'symlink', target: 'lib' });
    expect(layer.get(`/opt/lib/${M}`)).toMatchObject({ kind: 'symlink', target: '.' });
    // modcat names nothing of the layer: its library's libdir is the library's business
    expect(report.binaries.rewrittenDirs.some((d) => d.file === '/opt/bin/modcat')).toBe(false);
  });
});
