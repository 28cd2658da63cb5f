import { describe, expect, it } from 'vitest';
import type { PlannedPackage } from '../../src/resolve/plan.js';
import { installUcfFiles, stagingProgress } from '../../src/stage/staging.js';
import { dir, file, readContent, treeOf } from '../../src/tree/types.js';
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

  it('apt: a download line per package, then an unpacked line each', () => {
    const { states, details } = collect([
      'download libfoo1 amd64 1.0-1 [100 B]',
      'download foo-utils amd64 1.0-1 [300 B]',
      'unpacked libfoo1',
      'unpacked foo-utils',
      'something else',
    ]);
    expect(states).toEqual(['downloading 1/2 100', 'downloading 2/2 400', 'downloading 2/2 400 final', 'unpacking 1/2 1000', 'unpacking 2/2 4000', 'unpacking 2/2 4000 final']);
    expect(details).toEqual(['something else']);
  });

  it('dnf: downloaded file names', () => {
    const { states } = collect(['downloaded foo-utils-1.0-1.x86_64.rpm', 'downloaded libfoo1-1.0-1.x86_64.rpm']);
    expect(states).toEqual(['downloading 1/2 300', 'downloading 2/2 400']);
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
