import { chmodSync, copyFileSync, mkdirSync, readdirSync, readFileSync, rmSync, symlinkSync, truncateSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadRuntime } from '../../src/registry/load.js';
import { run, runYumda } from '../helpers/cli.js';
import { tempDir } from '../helpers/tmp.js';
import { ensureRuntimeImage, runLambdaLike } from '../helpers/lambda.js';

/**
 * Issue 10's fault injection for the build cache: a damaged byte anywhere in it (content, a
 * finished zip, a JSON record) is dropped and rebuilt with one warning line, never shipped. jq is
 * small and has a program and two libraries of its own (libjq1, libonig5).
 */
describe('a damaged build cache is rebuilt, not shipped (jq, debian12)', () => {
  const cacheDir = tempDir('yumda-integrity-cache-');
  const work = tempDir('yumda-integrity-');
  let clean: Buffer;
  let last = '';

  const build = (name: string) => runYumda(['install', 'jq', '--target', 'debian12', '--out', path.join(work, name), '--cache-dir', cacheDir]);
  const warnings = (stderr: string) => stderr.split('\n').filter((l) => l.startsWith('warning:'));

  /** The content-store file of `file` in the cached index of package `pkg`. */
  const contentOf = (pkg: string, file: RegExp): string => {
    const dir = path.join(cacheDir, 'packages');
    const index = readdirSync(dir).find((f) => f.startsWith(`${pkg}_`))!;
    const rows = (JSON.parse(readFileSync(path.join(dir, index), 'utf8')) as { value: { entries: Array<{ p: string; k: string; h?: string }> } }).value.entries;
    const h = rows.find((r) => r.k === 'f' && file.test(r.p))!.h!;
    return path.join(cacheDir, 'content', h.slice(0, 2), h);
  };
  const only = (dir: string, ext: string) => path.join(cacheDir, dir, readdirSync(path.join(cacheDir, dir)).find((f) => f.endsWith(ext))!);
  const flipByte = (f: string, at: number) => {
    const b = readFileSync(f);
    b[at] = b[at]! ^ 0xff;
    writeFileSync(f, b);
  };
  /** Without the finished zip, the zip is written from the (possibly damaged) content. */
  const dropZips = async () => expect((await runYumda(['cache', 'clean', '--only', 'zips', '--cache-dir', cacheDir])).code).toBe(0);
  const editRecord = (file: string, edit: (text: string) => string) => writeFileSync(file, edit(readFileSync(file, 'utf8')));

  beforeAll(async () => {
    const r = await build('clean.zip');
    if (r.code !== 0) throw new Error(`clean build failed: ${r.stderr.split('\n').slice(-3).join('\n')}`);
    expect(warnings(r.stderr)).toEqual([]);
    clean = readFileSync(path.join(work, 'clean.zip'));
  });

  it.each<[string, () => Promise<void> | void, RegExp]>([
    [
      'a flipped byte in a cached library',
      async () => {
        flipByte(contentOf('libonig5', /libonig\.so\.5\./), 4096);
        await dropZips();
      },
      /^warning: cache: \/usr\/lib\/x86_64-linux-gnu\/libonig\.so\.5\.\S+ in the cached package libonig5 \S+ \(.*\) is damaged \(its sha256 is .*\): dropped, unpacking libonig5 again$/,
    ],
    [
      'a truncated cached binary',
      async () => {
        truncateSync(contentOf('jq', /^\/usr\/bin\/jq$/), 1000);
        await dropZips();
      },
      /^warning: cache: \/usr\/bin\/jq in the cached package jq \S+ \(.*\) is damaged \(1000 bytes instead of \d+\): dropped, unpacking jq again$/,
    ],
    [
      'a flipped byte in the cached zip',
      () => flipByte(only('zips', '.zip'), 5000),
      /^warning: cache: the cached layer zip \(.*\.zip\) is damaged \(its sha256 does not match the one recorded when it was written\): dropped, writing the zip anew$/,
    ],
    [
      'a truncated cached zip',
      () => truncateSync(only('zips', '.zip'), 3000),
      /^warning: cache: the cached layer zip \(.*\.zip\) is damaged \(3000 bytes instead of \d+\): dropped, writing the zip anew$/,
    ],
    [
      "a package index edited by hand (a library's entry removed)",
      async () => {
        const index = path.join(cacheDir, 'packages', readdirSync(path.join(cacheDir, 'packages')).find((f) => f.startsWith('libjq1_'))!);
        editRecord(index, (t) => t.replace(/\{"p":"\/usr\/lib\/x86_64-linux-gnu\/libjq\.so\.1\.[^"]*","k":"f"[^}]*\},?/, ''));
        await dropZips();
      },
      /^warning: cache: the cached package libjq1 \S+ \(.*\.json\) is damaged \(its checksum does not match its content\): dropped, unpacking libjq1 again$/,
    ],
    [
      'a plan edited by hand (emptied)',
      async () => {
        editRecord(only('plans', '.json'), (t) => t.replace(/"packages":\[.*\],"fromRuntime"/, '"packages":[],"fromRuntime"'));
        await dropZips();
      },
      /^warning: cache: the cached resolved plan \(.*\.json\) is damaged \(its checksum does not match its content\): dropped, resolving again$/,
    ],
    // issue 19, item 11: damage of any kind, not only wrong bytes; a directory once failed every later build with EISDIR
    [
      'a cached binary replaced by a directory',
      async () => {
        const f = contentOf('jq', /^\/usr\/bin\/jq$/);
        rmSync(f);
        mkdirSync(path.join(f, 'inside'), { recursive: true });
        await dropZips();
      },
      /^warning: cache: \/usr\/bin\/jq in the cached package jq \S+ \(.*\) is damaged \(a directory, not a file\): dropped, unpacking jq again$/,
    ],
    [
      'a cached library replaced by a symlink to a copy of itself',
      async () => {
        const f = contentOf('libjq1', /libjq\.so\.1\./);
        const copy = path.join(work, 'elsewhere');
        copyFileSync(f, copy);
        rmSync(f);
        symlinkSync(copy, f);
        await dropZips();
      },
      /^warning: cache: \/usr\/lib\/x86_64-linux-gnu\/libjq\.so\.1\.\S+ in the cached package libjq1 \S+ \(.*\) is damaged \(a symlink to .*elsewhere, not a file\): dropped, unpacking libjq1 again$/,
    ],
    [
      'a cached library replaced by a FIFO (a read would block)',
      async () => {
        const f = contentOf('libonig5', /libonig\.so\.5\./);
        rmSync(f);
        expect((await run('mkfifo', [f])).code).toBe(0);
        await dropZips();
      },
      /^warning: cache: \/usr\/lib\/x86_64-linux-gnu\/libonig\.so\.5\.\S+ in the cached package libonig5 \S+ \(.*\) is damaged \(a FIFO, not a file\): dropped, unpacking libonig5 again$/,
    ],
    [
      'the cached zip replaced by a directory',
      () => {
        const f = only('zips', '.zip');
        rmSync(f);
        mkdirSync(path.join(f, 'inside'), { recursive: true });
      },
      /^warning: cache: the cached layer zip \(.*\.zip\) is damaged \(a directory, not a file\): dropped, writing the zip anew$/,
    ],
    [
      'a cached plan replaced by a directory',
      async () => {
        const f = only('plans', '.json');
        rmSync(f);
        mkdirSync(path.join(f, 'inside'), { recursive: true });
        await dropZips();
      },
      /^warning: cache: the cached resolved plan \(.*\.json\) is damaged \(a directory, not a file\): dropped, resolving again$/,
    ],
    ['nothing damaged any more: no warning at all', () => undefined, /^$/],
  ])('%s: one warning, exit 0, and the same bytes as the clean build', async (name, damage, warning) => {
    await damage();
    last = path.join(work, `${name.replace(/\W+/g, '-')}.zip`);
    const r = await build(path.basename(last));
    expect(r.code, r.stderr).toBe(0);
    expect(warnings(r.stderr)).toEqual(warning.source === '^$' ? [] : [expect.stringMatching(warning)]);
    const cmp = await run('cmp', [path.join(work, 'clean.zip'), last]);
    expect(cmp.code, cmp.stdout).toBe(0);
    expect(readFileSync(last).equals(clean)).toBe(true);
  });

  it('the layer rebuilt after all of that runs jq in a Lambda-like container', async () => {
    expect(last).not.toBe('');
    const dir = path.join(work, 'layer');
    expect((await run('unzip', ['-q', last, '-d', dir])).code).toBe(0);
    chmodSync(dir, 0o755);
    const runtime = loadRuntime('debian12');
    const image = await ensureRuntimeImage(runtime.verifyImage!.name, runtime.verifyImage!.context);
    const r = await runLambdaLike(image, dir, `echo '{"a":[1,2,39]}' | jq -c '{sum: (.a | add)}'`);
    expect(r.stderr).toBe('');
    expect(r.stdout.trim()).toBe('{"sum":42}');
  });
});
