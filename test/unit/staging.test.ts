import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { PassThrough, type Readable } from 'node:stream';
import tar from 'tar-stream';
import { describe, expect, it } from 'vitest';
import { ContentStore } from '../../src/cache/content-store.js';
import type { PlannedPackage } from '../../src/resolve/plan.js';
import { extractTar, packageRoute } from '../../src/stage/extract.js';
import { stagedFileLimit, type StagedOutput } from '../../src/stage/limits.js';
import { installUcfFiles, stagingProgress } from '../../src/stage/staging.js';
import { contains, readContent, readHead, sameBytes } from '../../src/tree/types.js';
import { dir, file, treeOf } from '../helpers/tree.js';
import { tarHeader } from '../helpers/hostile.js';
import { tempDir } from '../helpers/tmp.js';
import { formatDuration, ProgressMeter, progressLine, type ProgressState } from '../../src/util/progress.js';

const MiB = 1024 * 1024;

describe('progressLine: done of total, bytes, rate, time left', () => {
  it.each<[string, ProgressState, string]>([
    [
      'the start',
      { what: 'downloading', unit: 'packages', done: 0, total: 174, bytesDone: 0, bytesTotal: 212 * MiB, elapsedMs: 0 },
      'downloading: 0/174 packages, 0 B of 212.0 MiB (0%)',
    ],
    [
      'midway, with a rate and what is left',
      { what: 'downloading', unit: 'packages', done: 37, total: 174, bytesDone: 50 * MiB, bytesTotal: 200 * MiB, elapsedMs: 10_000 },
      'downloading: 37/174 packages, 50.0 MiB of 200.0 MiB (25%), 5.0 MiB/s, about 30 s left',
    ],
    [
      'bytes only (compressing)',
      { what: 'compressing', bytesDone: 100 * MiB, bytesTotal: 500 * MiB, elapsedMs: 50_000 },
      'compressing: 100.0 MiB of 500.0 MiB (20%), 2.0 MiB/s, about 3 min 20 s left',
    ],
    [
      'done: no time left',
      { what: 'unpacking', unit: 'packages', done: 3, total: 3, bytesDone: 9 * MiB, bytesTotal: 9 * MiB, elapsedMs: 3000 },
      'unpacking: 3/3 packages, 9.0 MiB of 9.0 MiB (100%), 3.0 MiB/s',
    ],
    ['under a second: no rate yet', { what: 'compressing', bytesDone: MiB, bytesTotal: 2 * MiB, elapsedMs: 400 }, 'compressing: 1.0 MiB of 2.0 MiB (50%)'],
    [
      'an estimate exceeded: never past 100%',
      { what: 'compressing', bytesDone: 11 * MiB, bytesTotal: 10 * MiB, elapsedMs: 11_000 },
      'compressing: 11.0 MiB of 11.0 MiB (100%), 1.0 MiB/s',
    ],
  ])('%s', (_what, state, line) => {
    expect(progressLine(state)).toBe(line);
  });

  it.each([
    [0.4, '0 s'],
    [59, '59 s'],
    [60, '1 min'],
    [200, '3 min 20 s'],
  ])('formatDuration(%s) = %s', (s, text) => expect(formatDuration(s)).toBe(text));
});

describe('ProgressMeter', () => {
  it('counts items and bytes against a clock, and marks the last state final', () => {
    let t = 1000;
    const seen: Array<[ProgressState, boolean]> = [];
    const m = new ProgressMeter(
      { what: 'downloading', unit: 'packages', total: 2, bytesTotal: 30 },
      (s, f) => seen.push([s, f]),
      () => t,
    );
    t = 2000;
    m.add(1, 10);
    t = 3000;
    m.add(1, 20);
    m.finish();
    expect(seen.map(([s, f]) => [s.done, s.bytesDone, s.elapsedMs, f])).toEqual([
      [1, 10, 1000, false],
      [2, 30, 2000, false],
      [2, 30, 2000, true],
    ]);
  });
});

describe('stagingProgress: the backends’ log lines as progress', () => {
  const pkg = (name: string, version: string, downloadSize: number, installedSize: number) => ({ name, version, downloadSize, installedSize }) as PlannedPackage;
  const plan = [pkg('libfoo1', '1.0-1', 100, 1000), pkg('foo-utils', '1.0-1', 300, 3000)];

  function collect(lines: string[]) {
    const states: string[] = [];
    const details: string[] = [];
    const log = stagingProgress(plan, {
      step: () => undefined,
      detail: (l) => details.push(l),
      progress: (s, f) => states.push(`${s.what} ${s.done}/${s.total} ${s.bytesDone}${f ? ' final' : ''}`),
    });
    for (const l of lines) log(l);
    return { states, details };
  }

  it('apt: each file as it is in, unpacked while the others still download', () => {
    const { states, details } = collect(['downloaded foo-utils_1.0-1_amd64.deb', 'unpacked foo-utils', 'downloaded libfoo1_1.0-1_amd64.deb', 'unpacked libfoo1', 'something else']);
    expect(states).toEqual(['downloading 1/2 300', 'unpacking 1/2 3000', 'downloading 2/2 400', 'downloading 2/2 400 final', 'unpacking 2/2 4000', 'unpacking 2/2 4000 final']);
    expect(details).toEqual(['something else']);
  });

  it('a backend that reports no download: its meter ends at the first unpack', () => {
    const { states } = collect(['unpacked libfoo1', 'unpacked foo-utils']);
    expect(states).toEqual(['downloading 0/2 0 final', 'unpacking 1/2 1000', 'unpacking 2/2 4000', 'unpacking 2/2 4000 final']);
  });

  it('dnf: downloaded file names', () => {
    const { states } = collect(['downloaded foo-utils-1.0-1.x86_64.rpm', 'downloaded libfoo1-1.0-1.x86_64.rpm']);
    expect(states).toEqual(['downloading 1/2 300', 'downloading 2/2 400', 'downloading 2/2 400 final']);
  });

  it('without a progress event, every line stays a detail', () => {
    const details: string[] = [];
    const log = stagingProgress(plan, { step: () => undefined, detail: (l) => details.push(l) });
    log('unpacked libfoo1');
    expect(details).toEqual(['unpacked libfoo1']);
  });
});

describe('installUcfFiles: config files a maintainer script installs with ucf', () => {
  const tree = () =>
    treeOf([
      dir('/etc/libreoffice/registry'),
      file('/usr/lib/libreoffice/share/.registry/main.xcd', '<xcd/>'),
      file('/usr/share/x/shipped.conf', 'new'),
      file('/etc/x/shipped.conf', 'old'),
    ]);
  it.each([
    [
      'a dh_ucf line: the destination gets the source',
      '/usr/lib/libreoffice/share/.registry/main.xcd /etc/libreoffice/registry/main.xcd\n',
      ['/etc/libreoffice/registry/main.xcd'],
    ],
    ['a destination the package ships stays its own', '/usr/share/x/shipped.conf /etc/x/shipped.conf\n', []],
    ['a source the package does not ship', '/usr/share/none /etc/none\n', []],
    ['a relative destination or a stray word', 'a b\n/usr/share/x/shipped.conf etc/y\n/usr/share/x/shipped.conf /etc/y extra\n', []],
    ['parent directories are made', '/usr/share/x/shipped.conf /etc/new/dir/y.conf\n', ['/etc/new/dir/y.conf']],
  ])('%s', (_what, records, added) => {
    const t = tree();
    expect(installUcfFiles(t, records)).toEqual(added);
    for (const a of added) {
      const e = t.get(a)!;
      expect(e.kind).toBe('file');
    }
  });
  it('copies content, mode and size', () => {
    const t = tree();
    installUcfFiles(t, '/usr/lib/libreoffice/share/.registry/main.xcd /etc/libreoffice/registry/main.xcd');
    const e = t.get('/etc/libreoffice/registry/main.xcd')!;
    expect(e.kind === 'file' && readContent(e.content).toString()).toBe('<xcd/>');
    expect(t.get('/etc/new')).toBeUndefined();
  });
});

describe('staging streams files and refuses one past what the output can hold, by its header (issue 19)', () => {
  const limit = stagedFileLimit('layer');

  it.each<[StagedOutput, number]>([
    ['layer', 262_144_000],
    ['pack', 10240 * MiB],
    ['image', 10 * 1024 * MiB],
  ])('the limit for a %s is %i bytes', (output, bytes) => {
    expect(stagedFileLimit(output).bytes).toBe(bytes);
  });

  it('a 20 GiB entry is refused from its header alone, and the source is closed (was: read into memory, 21 GB)', async () => {
    // the header of a 20 GiB member and nothing after it: the old code waited for its body forever
    const source = new PassThrough();
    source.write(tarHeader('out/pkgs/evil/usr/share/zeros', 20 * 1024 * MiB));
    const store = new ContentStore(path.join(tempDir(), 'content'));
    const started = Date.now();
    await expect(extractTar(source, store, packageRoute('out'), limit)).rejects.toThrow(
      "package evil: /usr/share/zeros is 21474836480 bytes (20480.0 MiB), more than a layer can hold (262144000 bytes, Lambda's limit for a function and its layers, unzipped); refusing to unpack it",
    );
    expect(Date.now() - started).toBeLessThan(5000);
    expect(source.destroyed).toBe(true);
    expect(readdirSync(store.dir)).toEqual([]);
  }, 10_000);

  it('a file under the limit is streamed into the store by its hash; a stream that fails leaves nothing', async () => {
    const store = new ContentStore(path.join(tempDir(), 'content'));
    const data = Buffer.alloc(3 * MiB + 5, 7);
    async function* chunks() {
      for (let at = 0; at < data.length; at += MiB) yield data.subarray(at, at + MiB);
    }
    const put = await store.writeStream(chunks());
    expect(put.size).toBe(data.length);
    expect(put.hash).toBe(createHash('sha256').update(data).digest('hex'));
    expect(readFileSync(put.hostPath).equals(data)).toBe(true);
    expect(store.get(put.hash, data.length)).toMatchObject({ kind: 'file', sha256: put.hash });
    async function* failing() {
      yield Buffer.alloc(10);
      throw new Error('cut short');
    }
    await expect(store.writeStream(failing())).rejects.toThrow('cut short');
    expect(readdirSync(store.dir).filter((n) => n.endsWith('.tmp'))).toEqual([]);
  });

  it('sameBytes, contains and readHead read files a MiB at a time, and agree with whole reads', () => {
    const store = new ContentStore(path.join(tempDir(), 'content'));
    const a = Buffer.alloc(2 * MiB + 3, 1);
    const b = Buffer.from(a);
    b[2 * MiB + 1] = 2;
    a.write('/opt', MiB - 2); // across the first chunk's end
    const fa = store.save(a) as { kind: 'file'; hostPath: string; sha256: string };
    const fb = { kind: 'file' as const, hostPath: store.put(b).hostPath };
    expect(sameBytes(fa, { kind: 'file', hostPath: fa.hostPath })).toBe(true);
    expect(sameBytes(fa, fb)).toBe(false);
    expect(sameBytes({ kind: 'bytes', data: a }, { kind: 'file', hostPath: fa.hostPath })).toBe(true);
    expect(contains(fa, '/opt')).toBe(true);
    expect(contains(fb, '/opt')).toBe(false);
    expect(readHead(fa, 4)).toEqual(a.subarray(0, 4));
    expect(readHead(store.save(Buffer.from('ab')), 64)).toEqual(Buffer.from('ab'));
  });
});

describe('staging ships every name as the package has it, or refuses the package in one line (issue 19)', () => {
  async function extract(members: Array<{ name: string; type?: 'file' | 'fifo' | 'character-device' | 'symlink'; linkname?: string; data?: string }>) {
    const pack = tar.pack();
    for (const m of members) pack.entry({ name: m.name, type: m.type ?? 'file', ...(m.linkname ? { linkname: m.linkname } : {}) }, m.data ?? '');
    pack.finalize();
    const store = new ContentStore(path.join(tempDir(), 'content'));
    return extractTar(pack as unknown as Readable, store, packageRoute('out'), stagedFileLimit('layer'));
  }

  it('a name with a newline is staged under that name (was: dropped by the route)', async () => {
    const { trees } = await extract([{ name: 'out/pkgs/p/usr/share/a\nb', data: 'x' }]);
    expect([...trees.get('p')!.keys()]).toEqual(['/usr/share/a\nb']);
  });

  it.each<[string, Parameters<typeof extract>[0], string]>([
    ['a FIFO', [{ name: 'out/pkgs/p/usr/share/pipe', type: 'fifo' }], 'package p: /usr/share/pipe is a FIFO (named pipe); a layer holds only files'],
    ['a device', [{ name: 'out/pkgs/p/usr/share/zero', type: 'character-device' }], 'package p: /usr/share/zero is a character device; a layer holds only files'],
    ['a name that was not UTF-8', [{ name: 'out/pkgs/p/usr/share/\uFFFD\n', data: 'x' }], 'package p: /usr/share/\\ufffd\\n is not valid UTF-8 (its bytes arrive as U+FFFD)'],
    [
      'a link target that was not UTF-8',
      [{ name: 'out/pkgs/p/usr/share/l', type: 'symlink', linkname: 'x\uFFFD' }],
      'package p: the target of /usr/share/l (x\\ufffd) is not valid UTF-8',
    ],
  ])('%s: refused, naming the package and the path escaped (was: dropped or renamed silently)', async (_what, members, message) => {
    await expect(extract(members)).rejects.toThrow(message);
  });
});
