import { createHash } from 'node:crypto';
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { deflateRawSync, gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { UnpackBudget } from '../../src/layer/limits.js';
import { modeString, specialModes } from '../../src/layer/modes.js';
import { modesResult } from '../../src/check/verify.js';
import { printable } from '../../src/util/printable.js';
import { dir, file, symlink, treeOf } from '../helpers/tree.js';
import { cliPath, run, runYumda } from '../helpers/cli.js';
import { tempDir } from '../helpers/tmp.js';
import { craftZip, type CraftedEntry } from '../helpers/craftzip.js';
import { manifestOf } from '../helpers/layer.js';
import { expectOneErrorLine, ociTarball, tarHeader, tarOf, zipWithFlippedByte } from '../helpers/hostile.js';

/**
 * Issue 10 (points 4, 8, 9, 10, 11, 5) and issue 11 §2: layers someone hands us, built to hurt.
 * Every case runs the built CLI on a real archive and expects one line `yumda: error: …`, exit 1,
 * no stack trace, nothing on stdout. verify runs with no reachable Docker engine: the archive must
 * be refused while reading, before anything would start a container. The bombs that unpack to a
 * GiB and more, read with their peak RSS measured, are in test/stress/bombs.test.ts.
 */

const MiB = 1024 * 1024;
const NO_DOCKER = { DOCKER_HOST: 'unix:///nonexistent.sock' };

/** inspect, diff (against itself) and verify, each refusing the file in one line. */
async function refusedByAll(work: string, name: string, pattern: RegExp, commands = ['inspect', 'diff', 'verify']): Promise<void> {
  for (const cmd of commands) {
    const args = cmd === 'diff' ? ['diff', name, name] : [cmd, name];
    const r = await runYumda(args, { cwd: work, env: { ...NO_DOCKER, TMPDIR: tempDir('yumda-tmpdir-') } });
    expectOneErrorLine(r, `${cmd} ${name}`, pattern);
  }
}

const zipCases: Array<[string, () => Buffer, RegExp]> = [
  [
    'a flipped byte in an entry (CRC-32)',
    () => zipWithFlippedByte([{ name: 'bin/' }, { name: 'bin/tool', data: '#!/bin/sh\necho hello\n', mode: 0o755 }], 'bin/tool'),
    /L\.zip: entry 'bin\/tool' is corrupt: its CRC-32 is [0-9a-f]{8}, the zip records [0-9a-f]{8} \(refusing the layer\); download or build it again$/,
  ],
  [
    'a 300-byte name component',
    () => craftZip([{ name: `lib/${'a'.repeat(300)}.so`, data: 'x' }]),
    /entry 'lib\/a{36}…a{27}\.so' has a name component of 303 bytes; Linux allows 255 \(refusing to read it\)$/,
  ],
  [
    'a path 3,000 levels deep',
    () => craftZip([{ name: `${'d/'.repeat(3000)}f`, data: 'x' }]),
    /is a path of 6006 bytes, 3001 levels deep; Linux allows 4095 bytes \(refusing to read it\)$/,
  ],
  [
    'a manifest with a null package',
    () => craftZip([{ name: '.yumda/manifest.json', data: JSON.stringify(manifestOf({ packages: [null] })) }]),
    /manifest\.json: field 'packages\.0' must be object; the layer was changed after yumda wrote it, or was not written by yumda$/,
  ],
  [
    'a manifest whose field names carry escape sequences',
    () => craftZip([{ name: '.yumda/manifest.json', data: JSON.stringify(manifestOf({ env: { '\u001b[2J': 1 } })) }]),
    /field 'env\.\\x1b\[2J' must be string/,
  ],
  [
    'an entry that inflates to more than its declared size (1 MiB declared as 10 bytes)',
    () => craftZip([{ name: 'a', deflated: { data: deflateRawSync(Buffer.alloc(MiB)), size: 10, crc32: 0 } }]),
    /L\.zip is not a readable zip: too many bytes in the stream\. expected 10\. got at least \d+$/,
  ],
  [
    'a 9 MiB layer manifest (it is kept in memory: 8 MiB at most)',
    () => craftZip([{ name: '.yumda/manifest.json', data: Buffer.alloc(9 * MiB, 0x20) }]),
    /entry '\.yumda\/manifest\.json' is larger than 8388608 bytes; a layer manifest is far smaller$/,
  ],
  [
    'a name with a newline and an escape sequence, refused for another reason',
    () => craftZip([{ name: '../\u001b[2J\nWrote x.zip', data: 'x' }]),
    /entry '\.\.\/\\x1b\[2J\\nWrote x\.zip' climbs out of the layer/,
  ],
];

const dockerArchive =
  (manifest: unknown, extra: Array<{ name: string; data: string }> = []) =>
  () =>
    tarOf([{ name: 'manifest.json', data: typeof manifest === 'string' ? manifest : JSON.stringify(manifest) }, ...extra]);

const imageCases: Array<[string, () => Promise<Buffer>, RegExp]> = [
  [
    'docker-archive: Layers is not a list',
    dockerArchive([{ Config: 'c.json', Layers: 'l.tar' }], [{ name: 'c.json', data: '{}' }]),
    /manifest\.json in the image tarball is malformed: Layers is not a list of file names; write it again/,
  ],
  ['docker-archive: no Config', dockerArchive([{ Layers: [] }]), /manifest\.json in the image tarball is malformed: Config is not a file name/],
  ['docker-archive: manifest.json is an object', dockerArchive({ Config: 'c.json' }), /manifest\.json in the image tarball is malformed: not a list of images/],
  ['docker-archive: the image is null', dockerArchive([null]), /manifest\.json in the image tarball is malformed: the image is not an object/],
  [
    'docker-archive: RepoTags is a string',
    dockerArchive([{ Config: 'c.json', Layers: [], RepoTags: 'x' }], [{ name: 'c.json', data: '{}' }]),
    /malformed: RepoTags is not a list of strings/,
  ],
  [
    'docker-archive: the config is a list',
    dockerArchive([{ Config: 'c.json', Layers: [] }], [{ name: 'c.json', data: '[]' }]),
    /c\.json in the image tarball is malformed: the image config is not an object/,
  ],
  [
    'docker-archive: Labels is not a map of strings',
    dockerArchive([{ Config: 'c.json', Layers: [] }], [{ name: 'c.json', data: '{"config":{"Labels":{"a":1}}}' }]),
    /malformed: config\.Labels is not a map of strings/,
  ],
  ['docker-archive: the config is missing', dockerArchive([{ Config: 'gone.json', Layers: [] }]), /image tarball has no gone\.json$/],
  ['docker-archive: not JSON', dockerArchive('[{'), /manifest\.json in the image tarball is not valid JSON/],
  ['OCI: manifests is a string', () => tarOf([{ name: 'index.json', data: '{"manifests":"x"}' }]), /index\.json in the image tarball is malformed: no list of manifests/],
  [
    'OCI: a digest that is a number',
    () => tarOf([{ name: 'index.json', data: '{"manifests":[{"digest":5}]}' }]),
    /index\.json in the image tarball is malformed: manifests\[0\] has no valid digest/,
  ],
  [
    'OCI: the manifest has no layers list',
    async () => {
      const m = '{"config":{"digest":"sha256:' + 'a'.repeat(64) + '"},"layers":{}}';
      const digest = (await import('node:crypto')).createHash('sha256').update(m).digest('hex');
      return tarOf([
        { name: 'index.json', data: JSON.stringify({ manifests: [{ digest: `sha256:${digest}` }] }) },
        { name: `blobs/sha256/${digest}`, data: m },
      ]);
    },
    /blobs\/sha256\/[0-9a-f]{64} in the image tarball is malformed: the image manifest has no list of layers/,
  ],
  [
    'a tarball of 200001 empty members (each costs memory to index)',
    async () => {
      const headers = Array.from({ length: 200_001 }, (_, i) => tarHeader(`m${i}`, 0));
      return Buffer.concat([...headers, Buffer.alloc(1024)]);
    },
    /I\.tar: more than 200000 members; an image tarball holds a few \(refusing to read further\)$/,
  ],
  [
    'OCI: a gzip layer whose tar header declares 11 GiB (past the 10 GiB image limit)',
    async () => ociTarball([gzipSync(Buffer.concat([tarHeader('opt/', 0, '5'), tarHeader('opt/big', 11 * 1024 * MiB), Buffer.alloc(MiB)]))]),
    /entry 'opt\/big' says it unpacks to 11811160064 bytes, past 10240\.0 MiB \(10737418240 bytes, Lambda's limit for a container image\)/,
  ],
];

describe('hostile layers: one line, exit 1, no stack trace, from inspect, diff and verify', () => {
  it.each(zipCases)(
    '%s',
    async (_what, make, pattern) => {
      const work = tempDir();
      writeFileSync(path.join(work, 'L.zip'), make());
      await refusedByAll(work, 'L.zip', pattern);
    },
    120_000,
  );

  it.each(imageCases)(
    '%s',
    async (_what, make, pattern) => {
      const work = tempDir();
      writeFileSync(path.join(work, 'I.tar'), await make());
      await refusedByAll(work, 'I.tar', pattern);
    },
    120_000,
  );

  it('a FIFO is refused at once, without opening it (opening would block until a writer comes)', async () => {
    const work = tempDir();
    expect((await run('mkfifo', [path.join(work, 'pipe.zip')])).code).toBe(0);
    for (const args of [
      ['inspect', 'pipe.zip'],
      ['diff', 'pipe.zip', 'pipe.zip'],
      ['verify', 'pipe.zip'],
    ]) {
      // the old reader blocked in open(2) and ignored SIGTERM: KILL it after 30 s so a regression fails, not hangs
      const r = await run('timeout', ['-s', 'KILL', '30', process.execPath, cliPath, ...args], { cwd: work, env: { ...process.env, ...NO_DOCKER } });
      expectOneErrorLine(r, args.join(' '), /pipe\.zip is a pipe \(FIFO\), as `<\(\.\.\.\)` or a named pipe gives, not a layer zip or image tarball; save it to a file first/);
    }
  }, 120_000);

  it('a process substitution <(cat x.zip) is refused in one line (was: ESPIPE)', async () => {
    const work = tempDir();
    writeFileSync(path.join(work, 'x.zip'), craftZip([{ name: 'a', data: 'x' }]));
    const r = await run('bash', ['-c', `"${process.execPath}" "${cliPath}" inspect <(cat x.zip)`], { cwd: work });
    expectOneErrorLine(r, 'inspect <(cat x.zip)', /\/dev\/fd\/\d+ is a pipe \(FIFO\).*; save it to a file first/);
  }, 60_000);

  it('publish reads through the same reader: a flipped byte is refused before anything is uploaded', async () => {
    const work = tempDir();
    writeFileSync(
      path.join(work, 'L.zip'),
      zipWithFlippedByte(
        [
          { name: '.yumda/manifest.json', data: JSON.stringify(manifestOf()) },
          { name: 'bin/tool', data: 'abc', mode: 0o755 },
        ],
        'bin/tool',
      ),
    );
    // no AWS endpoint is reachable: the error can only come from reading the zip
    const r = await runYumda(['publish', 'L.zip', '--name', 'l', '--region', 'us-east-1'], {
      cwd: work,
      env: { AWS_ENDPOINT_URL: 'http://127.0.0.1:9', AWS_ACCESS_KEY_ID: 'x', AWS_SECRET_ACCESS_KEY: 'y', AWS_PROFILE: undefined, AWS_SESSION_TOKEN: undefined },
    });
    expectOneErrorLine(r, 'publish', /entry 'bin\/tool' is corrupt: its CRC-32/);
  }, 60_000);
});

describe('layers that are odd but valid are reported, not refused', () => {
  it.each<[string, CraftedEntry[], RegExp[]]>([
    ['no files at all (an empty zip)', [], [/0 files, 0 symlinks, 0 directories; 0 programs/, /Largest files:\n {2}\(none\)/, /Executables \(0\):\n {2}\(none\)/]],
    ['only directories', [{ name: 'lib/' }, { name: 'share/' }], [/0 files, 0 symlinks, 2 directories; 0 programs/, /Executables \(0\):\n {2}\(none\)/]],
    [
      'a library and no executables (yumda install libonig5)',
      [{ name: 'lib/' }, { name: 'lib/libonig.so.5', data: 'x' }],
      [/1 file, 0 symlinks, 1 directory; 0 programs/, /Executables \(0\):\n {2}\(none\)/],
    ],
  ])(
    '%s: inspect prints the report, exit 0 (was: internal error)',
    async (_what, entries, patterns) => {
      const work = tempDir();
      writeFileSync(path.join(work, 'L.zip'), craftZip(entries));
      const r = await runYumda(['inspect', 'L.zip'], { cwd: work });
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      for (const p of patterns) expect(r.stdout).toMatch(p);
    },
    60_000,
  );
});

describe('text from a layer is printed escaped', () => {
  const evil = {
    clear: '\u001b[2J',
    red: '\u001b[31m',
    newline: 'x\nWrote /tmp/owned.zip',
    title: '\u001b]0;pwned\u0007',
    c1: '\u009b2J',
  };
  const entries = (target: string): CraftedEntry[] => [
    {
      name: '.yumda/manifest.json',
      data: JSON.stringify(
        manifestOf({
          target,
          arch: evil.red,
          runtime: evil.title,
          requested: [evil.newline],
          packages: [{ name: `pkg${evil.clear}`, version: evil.c1, arch: 'amd64', requiredBy: [], files: 1, bytes: 3 }],
        }),
      ),
    },
    { name: `bin/a${evil.clear}b`, data: '#!/bin/sh\n', mode: 0o755 },
    { name: `share/${evil.newline}`, data: 'x' },
    { name: 'lib/l', kind: 'symlink', data: `gone${evil.title}` },
  ];

  it('inspect and diff: no control character reaches the terminal, and no forged line', async () => {
    const work = tempDir();
    writeFileSync(path.join(work, 'a.zip'), craftZip(entries(evil.clear)));
    writeFileSync(path.join(work, 'b.zip'), craftZip(entries('debian12').filter((e) => !e.name.startsWith('share/'))));
    const inspect = await runYumda(['inspect', 'a.zip', '--all'], { cwd: work });
    const diff = await runYumda(['diff', 'a.zip', 'b.zip', '--all'], { cwd: work });
    for (const [what, r] of [
      ['inspect', inspect],
      ['diff', diff],
    ] as const) {
      expect(r.code, r.stderr).toBe(0);
      // eslint-disable-next-line no-control-regex
      expect(r.stdout, what).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/);
      expect(
        r.stdout.split('\n').filter((l) => l.startsWith('Wrote')),
        what,
      ).toEqual([]);
      expect(r.stdout, what).toContain('x\\nWrote /tmp/owned.zip');
    }
    expect(inspect.stdout).toContain('bin/a\\x1b[2Jb');
    expect(inspect.stdout).toContain('for \\x1b[2J \\x1b[31m (runtime \\x1b]0;pwned\\x07)');
    expect(inspect.stdout).toContain('pkg\\x1b[2J');
    expect(inspect.stdout).toContain('\\x9b2J');
    expect(inspect.stdout).toContain('lib/l -> gone\\x1b]0;pwned\\x07');
    expect(diff.stdout).toContain('target: \\x1b[2J \\x1b[31m -> debian12 \\x1b[31m');
    expect(diff.stdout).toContain('  - share/x\\nWrote /tmp/owned.zip');
    // JSON keeps the real strings; JSON.stringify escapes them
    const json = await runYumda(['inspect', 'a.zip', '--json'], { cwd: work });
    expect(json.stdout).not.toContain('\u001b');
    expect(JSON.parse(json.stdout).layer.target).toBe(evil.clear);
  }, 60_000);

  it('printable escapes C0, C1, DEL and bidi controls and nothing else', () => {
    expect(printable('a\u001b[2Jb\nc\rd\te\u0000f\u007fg\u0085h\u202ei')).toBe('a\\x1b[2Jb\\nc\\rd\\te\\x00f\\x7fg\\x85h\\u202ei');
    expect(printable('libü.so.1 ✓ /opt/bin/pdftoppm')).toBe('libü.so.1 ✓ /opt/bin/pdftoppm');
  });
});

describe('setuid, setgid and sticky bits in layers made elsewhere', () => {
  it('inspect lists them in one line (and in --json)', async () => {
    const work = tempDir();
    writeFileSync(
      path.join(work, 'L.zip'),
      craftZip([
        { name: 'bin/sudo', data: 'x', mode: 0o4755 },
        { name: 'bin/wall', data: 'x', mode: 0o2755 },
        { name: 'bin/ls', data: 'x', mode: 0o755 },
        { name: 'tmp/', mode: 0o1777 },
      ]),
    );
    const r = await runYumda(['inspect', 'L.zip'], { cwd: work });
    expect(r.code, r.stderr).toBe(0);
    const flagged = r.stdout.split('\n').filter((l) => l.includes('setuid'));
    expect(flagged).toEqual([
      '  setuid/setgid/sticky: bin/sudo (-rwsr-xr-x), bin/wall (-rwxr-sr-x), tmp (drwxrwxrwt): Lambda cannot use them (functions run unprivileged, with no_new_privs), and unpacked as root they would keep them; rebuild with yumda, which strips them',
    ]);
    const json = JSON.parse((await runYumda(['inspect', 'L.zip', '--json'], { cwd: work })).stdout);
    expect(json.specialModes).toEqual([
      { path: '/opt/bin/sudo', mode: '-rwsr-xr-x' },
      { path: '/opt/bin/wall', mode: '-rwxr-sr-x' },
      { path: '/opt/tmp', mode: 'drwxrwxrwt' },
    ]);
  }, 60_000);

  it('verify fails on them (modesResult), passes without', () => {
    const bad = modesResult(treeOf([dir('/opt/bin'), file('/opt/bin/sudo', 'x', 0o4755), symlink('/opt/bin/s', 'sudo')]));
    expect(bad.status).toBe('fail');
    expect(bad.message).toMatch(/^setuid\/setgid\/sticky: bin\/sudo \(-rwsr-xr-x\): Lambda cannot use them/);
    expect(modesResult(treeOf([dir('/opt/bin'), file('/opt/bin/ls', 'x', 0o755)]))).toEqual({ check: 'modes', status: 'pass', message: 'no setuid, setgid or sticky bits' });
  });

  it('modeString reads like ls -l', () => {
    expect(['-rwsr-xr-x', '-rwSr--r--', 'drwxrwxrwt', 'drwxrwxrwT', '-rwxr-sr-x'].map((m) => m)).toEqual([
      modeString('file', 0o4755),
      modeString('file', 0o4644),
      modeString('dir', 0o1777),
      modeString('dir', 0o1776),
      modeString('file', 0o2755),
    ]);
    expect(specialModes([{ path: '/opt/x', kind: 'symlink' }])).toEqual([]);
  });
});

describe('the entry budget', () => {
  it('refuses past 200000 entries and past the byte limit, naming the entry', () => {
    const b = new UnpackBudget('L.zip', { bytes: 100, what: 'a test limit' });
    b.add(60, 'a');
    expect(() => b.check(41, 'b')).toThrow("L.zip: entry 'b' says it unpacks to 41 bytes, past 100 B (100 bytes, a test limit) with the entries before it; refusing to read it");
    expect(() => b.add(41, 'b\n')).toThrow("L.zip: unpacks to more than 100 B (100 bytes, a test limit) at entry 'b\\n'; refusing to read further");
    const n = new UnpackBudget('L.zip', { bytes: 100, what: 'x' });
    for (let i = 0; i < 200_000; i++) n.entry('e');
    expect(() => n.entry('last')).toThrow("L.zip: more than 200000 entries (at 'last'); refusing to read further");
  });

  it('a corrupt entry leaves nothing in the content store', async () => {
    const { openLayer } = await import('../../src/layer/open.js');
    const { ContentStore } = await import('../../src/cache/content-store.js');
    const work = tempDir();
    const f = path.join(work, 'L.zip');
    writeFileSync(
      f,
      zipWithFlippedByte(
        [
          { name: 'a', data: 'good bytes' },
          { name: 'b', data: 'flipped bytes' },
        ],
        'b',
      ),
    );
    const store = new ContentStore(path.join(work, 'store'));
    await expect(openLayer(f, { store })).rejects.toThrow(/entry 'b' is corrupt/);
    // only the good entry's blob: the corrupt one was never renamed into place, its temp file is gone
    const good = createHash('sha256').update('good bytes').digest('hex');
    expect(readdirSync(store.dir, { recursive: true }).map(String).sort()).toEqual([good.slice(0, 2), `${good.slice(0, 2)}/${good}`]);
    expect(existsSync(store.pathOf(good))).toBe(true);
  });
});
