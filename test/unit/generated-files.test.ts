import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ContentStore } from '../../src/cache/content-store.js';
import { PackageCache } from '../../src/cache/packages.js';
import { loadRuntime, loadTarget } from '../../src/registry/load.js';
import { parseArch } from '../../src/registry/arch.js';
import { DEFAULT_KEEP, place, relocatedAddress } from '../../src/relocate/placement.js';
import { relocate } from '../../src/relocate/relocate.js';
import type { PlannedPackage } from '../../src/resolve/plan.js';
import { candidatePaths, canonicalPath, EXCLUSIONS, keptStateDirs, parseAliases, SOURCES_WHY, selectGenerated, sharedDirectory, spellings } from '../../src/stage/generated.js';
import { JKS_DEFAULT_PASSWORD, jksDigest, normalise, parseJks, SOURCE_DATE_EPOCH, writeJks } from '../../src/stage/normalise.js';
import { failedScripts, installScript, scriptsKey } from '../../src/stage/scripts.js';
import { readContent, type FileTree } from '../../src/tree/types.js';
import { dir, file, symlink, treeOf } from '../helpers/tree.js';
import { buildRequest, type BuildOptions } from '../../src/cli/build-options.js';
import { buildSpec } from '../../src/pipeline/request.js';
import { scriptsLines } from '../../src/cli/commands/install.js';
import { run, runYumda } from '../helpers/cli.js';
import { cc } from '../helpers/cc.js';
import { tempDir } from '../helpers/tmp.js';

const MERGED_USR = parseAliases('/bin\tusr/bin\n/lib\tusr/lib\n/lib64\tusr/lib64\n/sbin\tusr/sbin\n');
const triplet = 'x86_64-linux-gnu';

describe("the scratch root's merged /usr", () => {
  it("reads find's %p\\t%l lines as absolute links", () => {
    expect([...MERGED_USR]).toEqual([
      ['/bin', '/usr/bin'],
      ['/lib', '/usr/lib'],
      ['/lib64', '/usr/lib64'],
      ['/sbin', '/usr/sbin'],
    ]);
  });

  it.each([
    ['/lib/x86_64-linux-gnu/libexpat.so.1', '/usr/lib/x86_64-linux-gnu/libexpat.so.1'],
    ['/bin/sh', '/usr/bin/sh'],
    ['/library/x', '/library/x'],
    ['/usr/lib/x', '/usr/lib/x'],
  ])('canonicalPath(%s) = %s', (p, c) => expect(canonicalPath(p, MERGED_USR)).toBe(c));

  it('spells a path every way the links allow, its own first', () => {
    expect(spellings('/usr/lib/x86_64-linux-gnu/libdbus-1.so.3', MERGED_USR)).toEqual(['/usr/lib/x86_64-linux-gnu/libdbus-1.so.3', '/lib/x86_64-linux-gnu/libdbus-1.so.3']);
    expect(spellings('/lib/x', MERGED_USR)).toEqual(['/lib/x', '/usr/lib/x']);
  });
});

describe('candidatePaths: what the installation created or changed, minus the packages as they unpacked', () => {
  const listing = {
    changed: [
      'd\t/etc/ssl/certs/java',
      'f\t/etc/ssl/certs/java/cacerts',
      'l\t/etc/ssl/certs/ca-cert-ACCVRAIZ1.pem',
      // a package file (spelled /lib/... by the package, /usr/lib/... by find through the link)
      'f\t/usr/lib/x86_64-linux-gnu/libexpat.so.1.8.10',
      'l\t/usr/lib/x86_64-linux-gnu/libexpat.so.1',
      // a package's config file that its postinst edited (dpkg --verify says so)
      'f\t/etc/texmf/web2c/mktex.cnf',
      'f\t/usr/share/unchanged.txt',
      'p\t/run/a-fifo',
    ].join('\n'),
    owned: [
      '/.',
      '/lib/x86_64-linux-gnu/libexpat.so.1.8.10',
      '/lib/x86_64-linux-gnu/libexpat.so.1',
      '/etc/texmf/web2c/mktex.cnf',
      '/usr/share/unchanged.txt',
      'package foo is not installed',
    ].join('\n'),
    modified: ['??5?????? c /etc/texmf/web2c/mktex.cnf', 'missing     /usr/share/gone'].join('\n'),
    aliases: MERGED_USR,
  };

  it('keeps new files and links and changed package files, in order; never directories, fifos or unchanged package files', () => {
    expect(candidatePaths(listing)).toEqual(['/etc/ssl/certs/ca-cert-ACCVRAIZ1.pem', '/etc/ssl/certs/java/cacerts', '/etc/texmf/web2c/mktex.cnf']);
  });

  it("reads rpm -V's lines too", () => {
    const rpm = { ...listing, modified: 'S.5....T.  c /etc/texmf/web2c/mktex.cnf\n.M.......    /usr/share/unchanged.txt' };
    expect(candidatePaths(rpm)).toContain('/etc/texmf/web2c/mktex.cnf');
    // a mode change alone is not a content change
    expect(candidatePaths(rpm)).not.toContain('/usr/share/unchanged.txt');
  });
});

describe('selectGenerated: what of it the layer ships', () => {
  const staged = treeOf([
    { ...dir('/etc/ssl/certs/java'), pkg: 'ca-certificates-java' },
    { ...dir('/etc/ssl'), pkg: 'openssl' },
    { ...dir('/var/lib/texmf'), pkg: 'tex-common' },
    { ...dir('/lib/x86_64-linux-gnu/gdk-pixbuf-2.0/2.10.0'), pkg: 'libgdk-pixbuf-2.0-0' },
    file('/lib/x86_64-linux-gnu/gdk-pixbuf-2.0/2.10.0/loaders.cache', 'old\n', 0o644, 'libgdk-pixbuf-2.0-0'),
    file('/etc/papersize', 'a4\n', 0o644, 'libpaper1'),
  ]);

  it.each<[string, FileTree, string | undefined]>([
    ['dpkg database', treeOf([file('/var/lib/dpkg/status', 'x')]), 'package manager state'],
    ['rpm database', treeOf([file('/var/lib/rpm/Packages', 'x')]), 'package manager state'],
    ['ucf registry', treeOf([file('/var/lib/ucf/registry', 'x')]), 'package manager state'],
    ["the runtime's linker cache", treeOf([file('/etc/ld.so.cache', 'x')]), 'package manager state'],
    ['an alternatives link', treeOf([symlink('/usr/bin/java', '/etc/alternatives/java')]), 'package manager state'],
    ['the alternatives directory', treeOf([symlink('/etc/alternatives/java', '/usr/lib/jvm/x/bin/java')]), 'package manager state'],
    ["dpkg's log", treeOf([file('/var/log/dpkg.log', 'x')]), 'logs'],
    ["fmtutil's logs beside the formats", treeOf([file('/var/lib/texmf/web2c/luatex/luatex.log', 'x')]), 'logs'],
    ["debconf's database", treeOf([file('/var/cache/debconf/config.dat', 'x')]), 'caches (programs rebuild them at run time)'],
    ["fontconfig's cache", treeOf([file('/var/cache/fontconfig/abc-le64.cache-8', 'x')]), 'caches (programs rebuild them at run time)'],
    ['an account', treeOf([file('/etc/passwd', 'x')]), 'accounts and machine identity'],
    ['a shadow backup', treeOf([file('/etc/shadow-', 'x')]), 'accounts and machine identity'],
    ['a service link', treeOf([symlink('/etc/systemd/system/multi-user.target.wants/x.service', '/lib/systemd/system/x.service')]), 'service state (Lambda runs no services)'],
    ['an rc link', treeOf([symlink('/etc/rcS.d/S01x11-common', '../init.d/x11-common')]), 'service state (Lambda runs no services)'],
    ['python byte code', treeOf([file('/usr/lib/python3/dist-packages/x/__pycache__/a.cpython-311.pyc', 'x')]), 'byte code compiled for the build machine'],
    ["Java's preferences", treeOf([file('/etc/.java/.systemPrefs/.system.lock', '')]), "Java's preferences store (made by a JVM a script ran)"],
    ['a binfmt registration', treeOf([file('/usr/share/binfmts/jar', 'x')]), 'binfmt registrations (for the kernel of a machine)'],
    ['a spool file', treeOf([file('/var/spool/cron/x', 'x')]), 'run-time state'],
    ['Java trust store', treeOf([file('/etc/ssl/certs/java/cacerts', 'x')]), undefined],
    ["TeX's format", treeOf([file('/var/lib/texmf/web2c/luatex/lualatex.fmt', 'x')]), undefined],
    ["TeX's filename database", treeOf([file('/var/lib/texmf/ls-R-TEXLIVEDIST', 'x')]), undefined],
    ["GLib's compiled schemas", treeOf([file('/usr/share/glib-2.0/schemas/gschemas.compiled', 'x')]), undefined],
    ['a certificate link', treeOf([symlink('/etc/ssl/certs/ACCVRAIZ1.pem', '/usr/share/ca-certificates/mozilla/ACCVRAIZ1.crt')]), undefined],
  ])('%s', (_what, generated, why) => {
    const s = selectGenerated(generated, staged, MERGED_USR);
    if (why === undefined) {
      expect(s.leftOut).toEqual([]);
      expect(s.ship.map((e) => e.path)).toEqual([...generated.keys()]);
    } else {
      expect(s.ship).toEqual([]);
      expect(s.leftOut.map((l) => l.why)).toEqual([why]);
    }
  });

  it('every rule has a distinct reason', () => {
    expect(new Set(EXCLUSIONS.map((x) => x.why)).size).toBe(EXCLUSIONS.length);
  });

  it('counts what it leaves out by reason, with examples', () => {
    const s = selectGenerated(treeOf([file('/var/log/a.log', 'abc'), file('/var/log/b.log', 'de'), file('/etc/passwd', 'p')]), staged, MERGED_USR);
    expect(s.leftOut).toEqual([
      { why: 'accounts and machine identity', files: 1, bytes: 1, examples: ['/etc/passwd'] },
      { why: 'logs', files: 2, bytes: 5, examples: ['/var/log/a.log', '/var/log/b.log'] },
    ]);
  });

  it("counts each file under the package of its nearest directory, and skips a file equal to the package's (ucf)", () => {
    const s = selectGenerated(
      treeOf([file('/etc/ssl/certs/java/cacerts', 'jks'), file('/var/lib/texmf/web2c/luatex/lualatex.fmt', 'fmt'), file('/etc/papersize', 'a4\n'), file('/opt/nobody', 'x')]),
      staged,
      MERGED_USR,
    );
    expect(s.ship.map((e) => [e.path, e.pkg])).toEqual([
      ['/etc/ssl/certs/java/cacerts', 'ca-certificates-java'],
      ['/opt/nobody', undefined],
      ['/var/lib/texmf/web2c/luatex/lualatex.fmt', 'tex-common'],
    ]);
  });

  it.each([
    ['/etc', true],
    ['/usr/share', true],
    ['/var/lib', true],
    ['/usr/local/share', true],
    ['/usr/lib/x86_64-linux-gnu', true],
    ['/lib/aarch64-linux-gnu', true],
    ['/etc/fonts', false],
    ['/var/lib/texmf', false],
    ['/usr/share/fonts', false],
    ['/usr/lib/x86_64-linux-gnu/gdk-pixbuf-2.0', false],
  ])('sharedDirectory(%s) = %s', (d, shared) => expect(sharedDirectory(d)).toBe(shared));

  it('counts a file right in a shared directory (/etc/papersize) under no package', () => {
    const s = selectGenerated(treeOf([file('/etc/ucf-made.conf', 'x')]), new Map([...staged, ['/etc', { ...dir('/etc'), pkg: 'fontconfig-config' }]]), MERGED_USR);
    expect(s.ship.map((e) => [e.path, e.pkg])).toEqual([['/etc/ucf-made.conf', undefined]]);
  });

  it("takes the package's place and spelling when a script rewrote one of its files (merged /usr)", () => {
    const s = selectGenerated(treeOf([file('/usr/lib/x86_64-linux-gnu/gdk-pixbuf-2.0/2.10.0/loaders.cache', 'new\n')]), staged, MERGED_USR);
    expect(s.ship.map((e) => [e.path, e.pkg])).toEqual([['/lib/x86_64-linux-gnu/gdk-pixbuf-2.0/2.10.0/loaders.cache', 'libgdk-pixbuf-2.0-0']]);
    expect(readContent((s.ship[0] as { content: Parameters<typeof readContent>[0] }).content).toString()).toBe('new\n');
  });
});

describe('selectGenerated: the sources of a database a trigger compiled', () => {
  const staged = treeOf([
    { ...dir('/usr/share/mime/packages'), pkg: 'shared-mime-info' },
    file('/usr/share/mime/packages/freedesktop.org.xml', '<mime-info/>', 0o644, 'shared-mime-info'),
    file('/usr/share/mime/packages/README', 'not a source', 0o644, 'shared-mime-info'),
    file('/usr/share/glib-2.0/schemas/org.gnome.desktop.interface.gschema.xml', '<schemalist/>', 0o644, 'gsettings-desktop-schemas'),
    file('/usr/share/glib-2.0/schemas/10_debian.gschema.override', '[x]', 0o644, 'gsettings-desktop-schemas'),
  ]);

  it('leaves them out once the database ships, counted with examples', () => {
    const s = selectGenerated(treeOf([file('/usr/share/mime/mime.cache', 'db')]), staged, MERGED_USR);
    expect(s.ship.map((e) => e.path)).toEqual(['/usr/share/mime/mime.cache']);
    expect(s.sources).toEqual(['/usr/share/mime/packages/freedesktop.org.xml']);
    expect(s.leftOut).toEqual([{ why: SOURCES_WHY, files: 1, bytes: 12, examples: ['/usr/share/mime/packages/freedesktop.org.xml'] }]);
  });

  it('keeps them when the database is not among what ships (a script that failed, --no-scripts)', () => {
    const s = selectGenerated(treeOf([file('/usr/share/mime/text/plain.xml', 'x')]), staged, MERGED_USR);
    expect(s.sources).toEqual([]);
    expect(s.leftOut).toEqual([]);
  });

  it("takes GSettings' schemas and overrides when gschemas.compiled ships (merged /usr spelling)", () => {
    const s = selectGenerated(treeOf([file('/usr/share/glib-2.0/schemas/gschemas.compiled', 'db')]), staged, MERGED_USR);
    expect(s.sources).toEqual(['/usr/share/glib-2.0/schemas/10_debian.gschema.override', '/usr/share/glib-2.0/schemas/org.gnome.desktop.interface.gschema.xml']);
  });
});

describe('keptStateDirs: state under /var/lib that the layer ships read-only', () => {
  it('names the directory right under /var/lib of each shipped file, once', () => {
    expect(
      keptStateDirs([
        file('/var/lib/texmf/web2c/luatex/lualatex.fmt', 'x'),
        file('/var/lib/texmf/ls-R', 'x'),
        file('/var/lib/aspell/en.rws', 'x'),
        file('/etc/x', 'x'),
        dir('/var/lib/empty'),
      ]),
    ).toEqual(['/var/lib/aspell', '/var/lib/texmf']);
  });
});

describe('relocation of kept state: the layer ships it under /opt, and the paths that name it follow', () => {
  const layoutKept = { triplet, keep: DEFAULT_KEEP, keptState: ['/var/lib/texmf'] };

  it('places it at /opt/var/lib/…; other state stays out and its paths still go to /tmp', () => {
    expect(place('/var/lib/texmf/web2c/luatex/lualatex.fmt', layoutKept)).toEqual({ kind: 'place', to: '/opt/var/lib/texmf/web2c/luatex/lualatex.fmt' });
    expect(place('/var/lib/tex-common/fmtutil-cnf/texlive.cnf', layoutKept)).toEqual({ kind: 'drop', reason: 'state' });
    expect(relocatedAddress('/var/lib/texmf/ls-R', triplet, layoutKept.keptState)).toBe('/opt/var/lib/texmf/ls-R');
    expect(relocatedAddress('/var/lib/other/db', triplet, layoutKept.keptState)).toBe('/tmp/lib/other/db');
    // nothing kept: today's rule
    expect(place('/var/lib/texmf/ls-R', { triplet, keep: DEFAULT_KEEP })).toEqual({ kind: 'drop', reason: 'state' });
  });

  it("retargets links into it, rewrites config that names it, and leads a binary's string to it through a link", async () => {
    const work = tempDir();
    const prog = await cc('#include <stdio.h>\nint main(void) { puts("/var/lib/texmf/web2c"); return 0; }\n', 'prog', [], work);
    const staged = treeOf([
      { ...file('/var/lib/texmf/ls-R-TEXLIVEDIST', '% ls-R -- filename database for kpathsea; do not change this line.\n./:\n'), pkg: 'tex-common' },
      { ...file('/var/lib/texmf/web2c/luatex/lualatex.fmt', 'fmt'), pkg: 'tex-common' },
      symlink('/usr/share/texlive/texmf-dist/ls-R', '/var/lib/texmf/ls-R-TEXLIVEDIST', 'texlive-base'),
      file('/usr/share/texlive/texmf-dist/web2c/texmf.cnf', 'TEXMFSYSVAR = /var/lib/texmf\n', 0o644, 'texlive-base'),
      file('/usr/bin/prog', prog.data, 0o755, 'texlive-binaries'),
    ]);
    const kept = relocate({ staged, layout: layoutKept, recipes: [], shell: '/bin/sh' });
    expect(kept.layer.get('/opt/var/lib/texmf/web2c/luatex/lualatex.fmt')?.kind).toBe('file');
    expect(kept.layer.get('/opt/share/texlive/texmf-dist/ls-R')).toMatchObject({ kind: 'symlink', target: '../../../var/lib/texmf/ls-R-TEXLIVEDIST' });
    const cnf = readContent((kept.layer.get('/opt/share/texlive/texmf-dist/web2c/texmf.cnf') as { content: Parameters<typeof readContent>[0] }).content).toString();
    expect(cnf.split('\n')[0]).toBe('TEXMFSYSVAR = /opt/var/lib/texmf');
    // the binary's string cannot grow: its root becomes /opt, its tail stays, and a link leads it there
    expect(kept.report.binaries.unrewritable).toEqual([]);
    expect(kept.report.binaries.rewrittenPaths).toEqual([{ file: '/opt/bin/prog', from: '/var/lib/texmf/web2c', to: '/opt/lib/texmf/web2c' }]);
    expect(kept.layer.get('/opt/lib/texmf')).toMatchObject({ kind: 'symlink', target: '../var/lib/texmf' });
    const exe = path.join(work, 'relocated');
    writeFileSync(exe, readContent((kept.layer.get('/opt/bin/prog') as { content: Parameters<typeof readContent>[0] }).content), { mode: 0o755 });
    expect((await run(exe, [])).stdout).toBe('/opt/lib/texmf/web2c\n');

    // where the layer has /opt/lib/texmf already (a package's /usr/lib/texmf), the string stays, and says why
    const taken = relocate({ staged: new Map([...staged, ['/usr/lib/texmf/x', file('/usr/lib/texmf/x', 'x')]]), layout: layoutKept, recipes: [], shell: '/bin/sh' });
    expect(taken.report.binaries.unrewritable).toEqual([
      {
        file: '/opt/bin/prog',
        path: '/var/lib/texmf/web2c',
        why: 'it names state the layer ships read-only at /opt/var/lib/texmf/web2c, and it would need a link at /opt/lib/texmf, where the layer has a dir',
      },
    ]);

    // without it (--no-scripts), as before: the state is not shipped and the link dangles, so it goes
    const before = relocate({ staged, layout: { triplet, keep: DEFAULT_KEEP }, recipes: [], shell: '/bin/sh' });
    expect([...before.layer.keys()].filter((p) => p.includes('/var/') || p.endsWith('/ls-R'))).toEqual([]);
    expect(before.report.droppedLinks.map((l) => l.path)).toEqual(['/usr/share/texlive/texmf-dist/ls-R']);
  });
});

/** A JKS trust store as keytool writes it: entries in the order given, each with its date. */
function trustStore(certs: Array<[string, number]>, password = JKS_DEFAULT_PASSWORD): Buffer {
  return writeJks(
    certs.map(([alias, date]) => {
      const a = Buffer.from(alias);
      const head = Buffer.alloc(2);
      head.writeUInt16BE(a.length);
      const type = Buffer.from('\x00\x05X.509', 'latin1');
      const der = Buffer.from(`certificate of ${alias}`);
      const len = Buffer.alloc(4);
      len.writeUInt32BE(der.length);
      return { tag: 2, alias: Buffer.concat([head, a]), date: BigInt(date), rest: Buffer.concat([type, len, der]) };
    }),
    password,
  );
}

describe('normalise: generated files made reproducible', () => {
  it('reads a JKS store and checks its keyed digest', () => {
    const jks = parseJks(trustStore([['debian:b.pem', 1796402510087]]))!;
    expect(jks.entries.map((e) => [e.alias.subarray(2).toString(), e.date])).toEqual([['debian:b.pem', 1796402510087n]]);
    expect(jks.digestOk('changeit')).toBe(true);
    expect(jks.digestOk('other')).toBe(false);
  });

  it('gives two trust stores of the same certificates, made at other times and in another order, the same bytes', () => {
    const a = trustStore([
      ['debian:b.pem', 1796402510087],
      ['debian:a.pem', 1796402510090],
    ]);
    const b = trustStore([
      ['debian:a.pem', 1800000000000],
      ['debian:b.pem', 1800000000001],
    ]);
    expect(a.equals(b)).toBe(false);
    const na = normalise(a)!;
    const nb = normalise(b)!;
    expect(na.what).toBe('Java KeyStore (entry dates and order)');
    expect(na.data.equals(nb.data)).toBe(true);
    const jks = parseJks(na.data)!;
    expect(jks.digestOk('changeit')).toBe(true);
    expect(jks.entries.map((e) => [e.alias.subarray(2).toString(), e.date])).toEqual([
      ['debian:a.pem', BigInt(SOURCE_DATE_EPOCH) * 1000n],
      ['debian:b.pem', BigInt(SOURCE_DATE_EPOCH) * 1000n],
    ]);
    // already normal: nothing to do
    expect(normalise(na.data)).toBeUndefined();
  });

  it('leaves alone what it cannot seal again or read: another password, a truncated store, any other file', () => {
    expect(normalise(trustStore([['x', 5]], 'secret'))).toBeUndefined();
    const good = trustStore([['x', 5]]);
    expect(normalise(good.subarray(0, good.length - 3))).toBeUndefined();
    expect(normalise(Buffer.from('% ls-R -- filename database\n'))).toBeUndefined();
    expect(jksDigest(Buffer.alloc(0), '').length).toBe(20);
  });
});

describe('failedScripts: which package scripts failed, and what they said', () => {
  it("reads dpkg's and rpm's complaints", () => {
    const log = [
      'Setting up openjdk-17-jre-headless:amd64 (17.0.19+10-1~deb12u2) ...',
      'the java command requires a mounted proc fs (/proc).',
      'dpkg: error processing package openjdk-17-jre-headless:amd64 (--configure):',
      ' installed openjdk-17-jre-headless:amd64 package post-installation script subprocess returned error exit status 1',
      'dpkg: error processing package ca-certificates-java (--configure):',
      ' dependency problems - leaving unconfigured',
      'warning: %post(scripted-1.0-1.x86_64) scriptlet failed, exit status 3',
    ].join('\n');
    expect(failedScripts(log)).toEqual([
      {
        pkg: 'openjdk-17-jre-headless',
        why: 'the java command requires a mounted proc fs (/proc).: installed openjdk-17-jre-headless:amd64 package post-installation script subprocess returned error exit status 1',
      },
      { pkg: 'ca-certificates-java', why: 'dependency problems - leaving unconfigured' },
      { pkg: 'scripted', why: '%post scriptlet' },
    ]);
  });
});

describe('the installation scripts', () => {
  it.each([
    ['deb, purging', installScript('deb', true)],
    ['deb, self-contained', installScript('deb', false)],
    ['rpm, purging', installScript('rpm', true)],
    ['rpm, self-contained', installScript('rpm', false)],
  ])('%s: valid sh', async (_what, script) => {
    const f = path.join(tempDir(), 'install.sh');
    writeFileSync(f, script);
    const r = await run('sh', ['-n', f]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
  });

  it('purge only what the build image has beyond the runtime, and only when asked', () => {
    expect(installScript('deb', true)).toContain('grep -vxF -f runtime-packages');
    expect(installScript('deb', false)).not.toContain('runtime-packages');
    expect(installScript('rpm', true)).toContain('rpm -e $extras');
    expect(installScript('rpm', false)).toContain('extras=\n');
  });
});

describe('scriptsKey: the cache key covers what decides the outcome', () => {
  const target = loadTarget('debian12');
  const runtime = loadRuntime('debian12');
  const arch = parseArch('x86_64');
  const pkg = (name: string, version: string): PlannedPackage => ({
    name,
    version,
    arch: 'amd64',
    downloadSize: 1,
    installedSize: 1,
    requiredBy: [],
    requested: true,
    provides: [],
    depends: [],
  });
  const base = { plan: { packages: [pkg('tex-common', '6.18')], fromRuntime: [], skew: [] }, target, runtime, arch, image: 'yumda/build-debian12:abc', selfContained: false };

  it.each<[string, Partial<typeof base>]>([
    ['another version of a package', { plan: { packages: [pkg('tex-common', '6.19')], fromRuntime: [], skew: [] } }],
    ['another build image', { image: 'yumda/build-debian12:def' }],
    ['another runtime', { runtime: { ...runtime, packages: runtime.packages.slice(1) } }],
    ['another architecture', { arch: parseArch('arm64') }],
    ['a self-contained layer', { selfContained: true }],
  ])('%s gives another key', (_what, change) => {
    expect(scriptsKey({ ...base, ...change })).not.toBe(scriptsKey(base));
  });

  it('the same inputs give the same key', () => expect(scriptsKey({ ...base })).toBe(scriptsKey(base)));
});

describe('PackageCache keeps the package file, for the scripts', () => {
  it('gives it back, and counts a tree without it as a miss when it is wanted', () => {
    const root = tempDir();
    mkdirSync(path.join(root, 'content'));
    const store = new ContentStore(path.join(root, 'content'));
    const cache = new PackageCache(path.join(root, 'packages'), store, () => undefined);
    const p: PlannedPackage = { name: 'jq', version: '1.6-2.1', arch: 'amd64', downloadSize: 1, installedSize: 1, requiredBy: [], requested: true, provides: [], depends: [] };
    const q: PlannedPackage = { ...p, name: 'libjq1' };
    const deb = Buffer.from('!<arch>\ndebian-binary\n');
    cache.put(p, { tree: treeOf([file('/usr/bin/jq', 'x')]), alternatives: '', archive: { name: 'jq.deb', content: store.save(deb), size: deb.length } });
    cache.put(q, { tree: treeOf([file('/usr/lib/libjq.so.1', 'x')]), alternatives: '' });
    const hit = cache.get(p, true)!;
    expect(hit.archive?.name).toBe('jq.deb');
    expect(readContent(hit.archive!.content).equals(deb)).toBe(true);
    expect(cache.get(q, true)).toBeUndefined();
    expect(cache.get(q)?.tree.has('/usr/lib/libjq.so.1')).toBe(true);
  });
});

describe('--no-scripts', () => {
  const opts = (o: Partial<BuildOptions>): BuildOptions => ({
    target: 'debian12',
    arch: 'x86_64',
    repo: [],
    recipes: [],
    keepUnusable: [],
    defaultRepos: true,
    scripts: true,
    ...o,
  });

  it('the build it describes runs no scripts; without it (commander sets scripts: true), it does', () => {
    expect(buildSpec(buildRequest([{ name: 'jq' }], 'debian12', parseArch('x86_64'), opts({ scripts: false }))).scripts).toBe(false);
    expect(buildSpec(buildRequest([{ name: 'jq' }], 'debian12', parseArch('x86_64'), opts({ scripts: true }))).scripts).toBe(true);
  });

  it('install takes it and passes it on to the yumda of a Dockerfile stage', async () => {
    const r = await runYumda(['install', 'jq', '--target', 'debian12', '--no-scripts', '--dockerfile']);
    expect(r.stderr).toBe('');
    expect(r.stdout).toMatch(/yumda install jq .*--no-scripts .*--local/);
    const without = await runYumda(['install', 'jq', '--target', 'debian12', '--dockerfile']);
    expect(without.stdout).not.toContain('--no-scripts');
  });
});

describe('the install summary of what the scripts generated', () => {
  const report = (over: Partial<NonNullable<Parameters<typeof scriptsLines>[0]['scripts']>> = {}) => ({
    scripts: {
      reused: false,
      generated: [
        { path: '/etc/ssl/certs/java/cacerts', bytes: 167226, package: 'ca-certificates-java', kind: 'file' as const },
        { path: '/var/lib/texmf/web2c/luatex/luatex.fmt', bytes: 1211653, package: 'tex-common', kind: 'file' as const },
        { path: '/usr/share/man/man1/x.1.gz', bytes: 10, kind: 'file' as const },
      ],
      leftOut: [{ why: 'logs', files: 5, bytes: 9, examples: [] }],
      normalised: [{ path: '/etc/ssl/certs/java/cacerts', what: 'Java KeyStore (entry dates and order)' }],
      failed: [],
      notes: [],
      keptState: ['/var/lib/texmf'],
      layerPaths: new Map([
        ['/etc/ssl/certs/java/cacerts', '/opt/etc/ssl/certs/java/cacerts'],
        ['/var/lib/texmf/web2c/luatex/luatex.fmt', '/opt/var/lib/texmf/web2c/luatex/luatex.fmt'],
      ]),
      ...over,
    },
  });

  it('counts only what the layer ships (not what the layout left out: a man page), then where state went, what was left out and normalised', () => {
    expect(scriptsLines(report())).toEqual([
      'maintainer scripts generated 2 files and links the layer ships (1.3 MiB): etc/ssl/certs/java/cacerts, var/lib/texmf/web2c/luatex/luatex.fmt',
      '  shipped read-only under /opt: /var/lib/texmf → /opt/var/lib/texmf (generated state programs read)',
      '  left out of what they generated: logs 5',
      '  made reproducible: /etc/ssl/certs/java/cacerts (Java KeyStore (entry dates and order))',
    ]);
  });

  it('says nothing when they did not run, and says when nothing they made ships', () => {
    expect(scriptsLines(report({ skipped: 'off (--no-scripts)' }))).toEqual([]);
    expect(scriptsLines(report({ generated: [], leftOut: [], normalised: [], keptState: [], reused: true }))).toEqual([
      'maintainer scripts ran (reused from the cache) and generated nothing the layer ships',
    ]);
  });
});
