import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serveAptRepo, type DebPackage } from '../helpers/apt-repo.js';
import { describeRun, runYumdaBounded, type BoundedResult } from '../helpers/bounded.js';
import { tempDir } from '../helpers/tmp.js';
import { readZip } from '../helpers/zip.js';

/**
 * Issue 19: packages an attacker (or a broken build) would publish, built by the test as .debs and
 * served from a flat apt repository on loopback (helpers/apt-repo.ts), installed with
 * `--no-default-repos` (the runtime's packages come from the runtime manifest, so no mirror is
 * needed). Every run has a time and a memory bound on the yumda process (helpers/bounded.ts): a
 * hang or a runaway allocation fails the test in bounded time instead of stalling CI or the machine.
 */

const GiB = 1024 * 1024 * 1024;
const MiB = 1024 * 1024;

/** A package holding one sparse file of `size` bytes (data.tar made with tar --sparse: a few hundred bytes). */
function sparsePackage(name: string, file: string, size: number): DebPackage {
  return {
    name,
    version: '1.0',
    tree: (root) => {
      mkdirSync(path.join(root, path.dirname(file)), { recursive: true });
      execFileSync('truncate', ['-s', String(size), path.join(root, file)]);
    },
    dataTar: () => ['--sparse', '.'],
  };
}

/** A package of small files under usr/share/<dir>, named by raw bytes (a name need not be UTF-8). */
function namesPackage(name: string, files: Array<[Buffer | string, string]>, extra?: (root: string) => void): DebPackage {
  return {
    name,
    version: '1.0',
    tree: (root) => {
      const d = path.join(root, 'usr/share', name);
      mkdirSync(d, { recursive: true });
      for (const [n, data] of files) writeFileSync(Buffer.concat([Buffer.from(`${d}/`), Buffer.from(n)]), data);
      extra?.(d);
    },
    // GNU tar, not dpkg-deb, which refuses a newline in a name (dpkg-deb -x in the build container takes it)
    dataTar: () => ['.'],
  };
}

const PACKAGES: DebPackage[] = [
  sparsePackage('sparse-bomb', 'usr/share/bomb/zeros', 20 * GiB),
  sparsePackage('over-layer', 'usr/share/big/zeros', 300 * MiB),
  sparsePackage('one-gib', 'usr/share/big/zeros', GiB),
  namesPackage('newline-name', [
    ['plain', 'plain file\n'],
    ['a\nb', 'the file with a newline in its name\n'],
  ]),
  namesPackage('bad-utf8', [
    [Buffer.from([0xff]), 'ff\n'],
    [Buffer.from([0xfe]), 'fe\n'],
    ['ok', 'unrelated\n'],
  ]),
  namesPackage('fifo-pkg', [['ok', 'x\n']], (d) => execFileSync('mkfifo', [path.join(d, 'pipe')])),
  namesPackage('device-pkg', [['ok', 'x\n']], (d) => execFileSync('mknod', [path.join(d, 'zero'), 'c', '1', '5'])),
  {
    name: 'absolute-member',
    version: '1.0',
    tree: (root) => {
      mkdirSync(path.join(root, 'usr/share/absolute-member'), { recursive: true });
      writeFileSync(path.join(root, 'usr/share/absolute-member/ok'), 'x\n');
      mkdirSync(path.join(root, 'elsewhere'));
      writeFileSync(path.join(root, 'elsewhere/abs'), 'absolute\n');
    },
    // ./usr, then a member named /usr/share/absolute-member/abs, as tar -P writes it
    dataTar: (root) => ['./usr', '-P', '--transform', `s|^${root}/elsewhere/|/usr/share/absolute-member/|`, `${root}/elsewhere/abs`],
  },
  ...['plain-a', 'plain-b', 'plain-c', 'plain-d', 'plain-e', 'tampered'].map((name) => namesPackage(name, [['ok', `${name}\n`]])),
];

function expectOneLine(r: BoundedResult, line: RegExp): void {
  expect(r.killed, describeRun(r)).toBeUndefined();
  expect(r.code, describeRun(r)).toBe(1);
  expect(r.stderr).not.toMatch(/internal error|\n\s+at /);
  const lines = r.stderr.split('\n').filter((l) => l.startsWith('yumda: '));
  expect(lines, describeRun(r)).toHaveLength(1);
  expect(lines[0]).toMatch(line);
}

describe('hostile packages from an apt repository on loopback (debian12)', () => {
  let repo: Awaited<ReturnType<typeof serveAptRepo>>;
  const work = tempDir('yumda-hostile-pkgs-');
  const peaks: string[] = [];
  const install = (pkg: string, extra: string[], bounds: { timeoutMs: number; maxRssMiB: number }) =>
    runYumdaBounded(['install', pkg, '--target', 'debian12', '--no-default-repos', '--repo', repo.repo, ...extra], { cwd: work, ...bounds });

  beforeAll(async () => {
    repo = await serveAptRepo(PACKAGES);
    // a mirror that serves other bytes than its signed index lists: one byte of the file changed, its size kept
    const tampered = path.join(repo.dir, 'tampered_1.0_amd64.deb');
    const bytes = readFileSync(tampered);
    bytes[bytes.length - 1] ^= 0xff;
    writeFileSync(tampered, bytes);
  }, 300_000);
  afterAll(async () => {
    await repo?.close();
    console.log(`peak RSS of yumda:\n  ${peaks.join('\n  ')}`);
  });

  it('a 10 kB package holding a 20 GiB sparse file: refused at its header, in one line, in bounded memory (was: 21.4 GB, then a stack trace)', async () => {
    const r = await install('sparse-bomb', ['--out', path.join(work, 'bomb.zip')], { timeoutMs: 300_000, maxRssMiB: 1024 });
    peaks.push(`install sparse-bomb (20 GiB file, refused): ${r.peakRssMiB} MiB in ${r.ms} ms`);
    expectOneLine(
      r,
      /^yumda: error: package sparse-bomb: \/usr\/share\/bomb\/zeros is 21474836480 bytes \(20480\.0 MiB\), more than a layer can hold \(262144000 bytes, Lambda's limit for a function and its layers, unzipped\); refusing to unpack it; /,
    );
    expect(r.peakRssMiB).toBeLessThan(300);
    expect(existsSync(path.join(work, 'bomb.zip'))).toBe(false);
  }, 400_000);

  it('a 300 MiB file: refused for a layer zip at its header, in bounded memory (was: refused by the gate at a 1.33 GB peak)', async () => {
    const r = await install('over-layer', ['--out', path.join(work, 'over.zip')], { timeoutMs: 300_000, maxRssMiB: 1024 });
    peaks.push(`install over-layer (300 MiB file, refused): ${r.peakRssMiB} MiB in ${r.ms} ms`);
    expectOneLine(r, /^yumda: error: package over-layer: \/usr\/share\/big\/zeros is 314572800 bytes \(300\.0 MiB\), more than a layer can hold/);
    expect(r.peakRssMiB).toBeLessThan(300);
  }, 400_000);

  it('a file whose name holds a newline is shipped under that name, and counted (was: dropped, exit 0, no warning)', async () => {
    const zip = path.join(work, 'newline.zip');
    const r = await install('newline-name', ['--out', zip], { timeoutMs: 300_000, maxRssMiB: 1024 });
    expect(r.code, describeRun(r)).toBe(0);
    const entries = await readZip(zip);
    const files = entries.filter((e) => e.kind === 'file' && e.name.startsWith('share/newline-name/'));
    expect(files.map((e) => [e.name, e.data?.toString()])).toEqual([
      ['share/newline-name/a\nb', 'the file with a newline in its name\n'],
      ['share/newline-name/plain', 'plain file\n'],
    ]);
    const manifest = JSON.parse(entries.find((e) => e.name === '.yumda/manifest.json')!.data!.toString());
    expect(manifest.packages.find((p: { name: string }) => p.name === 'newline-name').files).toBe(2);
  }, 400_000);

  it.each<[string, RegExp]>([
    [
      'bad-utf8',
      /^yumda: error: package bad-utf8: \/usr\/share\/bad-utf8\/\\ufffd is not valid UTF-8 \(its bytes arrive as U\+FFFD\); a layer names its files in UTF-8, so it would ship under another name/,
    ],
    [
      'fifo-pkg',
      /^yumda: error: package fifo-pkg: \/usr\/share\/fifo-pkg\/pipe is a FIFO \(named pipe\); a layer holds only files, directories and symlinks, so it cannot be shipped/,
    ],
    ['device-pkg', /^yumda: error: package device-pkg: \/usr\/share\/device-pkg\/zero is a character device; a layer holds only files, directories and symlinks/],
  ])(
    '%s: refused in one line naming the file (was: changed or dropped, exit 0)',
    async (pkg, line) => {
      const zip = path.join(work, `${pkg}.zip`);
      const r = await install(pkg, ['--out', zip], { timeoutMs: 300_000, maxRssMiB: 1024 });
      expectOneLine(r, line);
      expect(existsSync(zip)).toBe(false);
    },
    400_000,
  );

  it('a data.tar member with an absolute name lands where dpkg installs it (dpkg-deb strips the /), not dropped', async () => {
    const zip = path.join(work, 'absolute.zip');
    const r = await install('absolute-member', ['--out', zip], { timeoutMs: 300_000, maxRssMiB: 1024 });
    expect(r.code, describeRun(r)).toBe(0);
    const files = (await readZip(zip)).filter((e) => e.kind === 'file' && e.name.startsWith('share/absolute-member/'));
    expect(files.map((e) => [e.name, e.data?.toString()])).toEqual([
      ['share/absolute-member/abs', 'absolute\n'],
      ['share/absolute-member/ok', 'x\n'],
    ]);
  }, 400_000);

  it('five packages downloaded four at a time: each unpacked, each in the layer', async () => {
    const zip = path.join(work, 'five.zip');
    const names = ['plain-a', 'plain-b', 'plain-c', 'plain-d', 'plain-e'];
    const r = await runYumdaBounded(['install', ...names, '--target', 'debian12', '--no-default-repos', '--repo', repo.repo, '--out', zip], {
      cwd: work,
      timeoutMs: 300_000,
      maxRssMiB: 1024,
    });
    expect(r.code, describeRun(r)).toBe(0);
    const files = (await readZip(zip)).filter((e) => e.kind === 'file' && e.name.endsWith('/ok'));
    expect(files.map((e) => [e.name, e.data?.toString()])).toEqual(names.map((n) => [`share/${n}/ok`, `${n}\n`]));
  }, 400_000);

  it('a package file whose bytes differ from the signed index: refused in one line naming it, nothing written', async () => {
    const zip = path.join(work, 'tampered.zip');
    const r = await runYumdaBounded(['install', 'plain-a', 'tampered', 'plain-b', '--target', 'debian12', '--no-default-repos', '--repo', repo.repo, '--out', zip], {
      cwd: work,
      timeoutMs: 300_000,
      maxRssMiB: 1024,
    });
    expectOneLine(
      r,
      /^yumda: error: cannot download the packages from the debian12 repositories: Hash Sum mismatch: http:\/\/\S+\/tampered_1\.0_amd64\.deb; the file's SHA-256 is not the one the repository's signed index gives /,
    );
    expect(existsSync(zip)).toBe(false);
  }, 400_000);

  it('a 1 GiB file is allowed in an image: staged, relocated and written in bounded memory', async () => {
    const oci = path.join(work, 'one-gib.tar');
    const r = await runYumdaBounded(['image', 'one-gib', '--target', 'debian12', '--no-default-repos', '--repo', repo.repo, '--oci', oci], {
      cwd: work,
      timeoutMs: 400_000,
      maxRssMiB: 1024,
    });
    peaks.push(`image one-gib (1 GiB file, written): ${r.peakRssMiB} MiB in ${r.ms} ms`);
    expect(r.killed, describeRun(r)).toBeUndefined();
    expect(r.code, describeRun(r)).toBe(0);
    expect(existsSync(oci)).toBe(true);
    expect(r.peakRssMiB).toBeLessThan(400);
    writeFileSync(path.join(work, 'done'), '');
  }, 500_000);
});
