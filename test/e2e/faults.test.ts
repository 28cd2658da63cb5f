import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cliPath, repoRoot, run } from '../helpers/cli.js';
import { tempDir } from '../helpers/tmp.js';
import { engineProxy } from '../helpers/engine-proxy.js';

/**
 * Fault injection (issue 10): a build is killed (SIGKILL) or interrupted (SIGINT, SIGTERM) at
 * each step of the pipeline, and the disk fills up under the cache or the output. Whatever
 * happens: no partial output and no temporary file beside it, one line and the signal's exit
 * code, no container left once the next run is done, and that run's zip byte-identical to a
 * clean build's. A preloaded hook (helpers/pause-hook.mjs) holds the process at the step, so
 * the signal lands there every time, not wherever a race puts it.
 */

const PKG = 'jq'; // 3 small packages from the Debian mirror: a full build in seconds
const TARGET = ['--target', 'debian12'];
const hook = path.join(repoRoot, 'test/helpers/pause-hook.mjs');
const env = { ...process.env, YUMDA_DOCKER_NETWORK: process.env.YUMDA_DOCKER_NETWORK ?? 'host', CI: 'true' };

interface Outcome {
  code: number | null;
  stdout: string;
  stderr: string;
  pid: number;
}

/** Runs yumda held at `pauseAt`; once it is there, sends `signal` and lets it go on. */
function runAndSignal(args: string[], pauseAt: string, signal: NodeJS.Signals): Promise<Outcome> {
  const go = path.join(tempDir(), 'go');
  const child = spawn(process.execPath, ['--import', hook, cliPath, ...args], { env: { ...env, YUMDA_TEST_PAUSE_AT: pauseAt, YUMDA_TEST_GO: go } });
  let stdout = '';
  let stderr = '';
  let sent = false;
  child.stdout.on('data', (c) => (stdout += c));
  child.stderr.on('data', (c) => {
    stderr += c;
    if (!sent && stderr.includes('test: paused at')) {
      sent = true;
      child.kill(signal); // pending in the process before it may go on
      writeFileSync(go, '');
    }
  });
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr, pid: child.pid! })));
}

async function containersOf(pid: number): Promise<string[]> {
  const r = await run('docker', ['ps', '-aq', '--filter', `label=org.yumda.pid=${pid}`]);
  return r.stdout.split('\n').filter(Boolean);
}

async function yumda(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return run(process.execPath, [cliPath, ...args], { env });
}

/** The lines the process printed after the hook let it go on. */
const afterPause = (stderr: string) => stderr.slice(stderr.indexOf('test: paused at')).split('\n').slice(1).filter(Boolean);

const cache = tempDir('yumda-faults-cache-');
const reference = path.join(tempDir(), `${PKG}.zip`);

beforeAll(async () => {
  const r = await yumda(['install', PKG, ...TARGET, '--out', reference, '--cache-dir', cache]);
  expect(r.code, r.stderr).toBe(0);
});

describe.each([
  // the plan is cached after the reference build: --refresh resolves again, in a container
  { step: 'resolving', pauseAt: `resolving ${PKG}`, args: ['--refresh'], clean: [] },
  // packages not in the cache: downloaded, unpacked and copied out of a container (and no finished
  // build to reuse: it lives with the zips)
  { step: 'downloading and unpacking', pauseAt: 'downloading and unpacking', args: [], clean: ['packages', 'zips'] },
  { step: 'copying out of the container', pauseAt: 'copying the unpacked packages out', args: [], clean: ['packages', 'zips'] },
  { step: 'relocating', pauseAt: 'relocating', args: [], clean: ['zips'] },
  // no finished zip in the cache: the zip is written, through a temporary file beside the output
  { step: 'writing the zip', pauseAt: 'temporary-file', args: [], clean: ['zips'] },
])('a build stopped while $step', ({ pauseAt, args, clean }) => {
  it.each(['SIGKILL', 'SIGINT', 'SIGTERM'] as const)('%s: nothing partial, one line, nothing left after the next run, same bytes', async (signal) => {
    const out = tempDir();
    const dest = path.join(out, `${PKG}.zip`);
    const build = ['install', PKG, ...TARGET, '--out', dest, '--cache-dir', cache, ...args];
    for (const part of clean) expect((await yumda(['cache', 'clean', '--only', part, '--cache-dir', cache])).code).toBe(0);

    const stopped = await runAndSignal(build, pauseAt, signal);
    expect(stopped.stderr).toContain('test: paused at');
    expect(existsSync(dest)).toBe(false);
    if (signal === 'SIGKILL') {
      expect(stopped.code).toBe(null);
    } else {
      expect([stopped.code, stopped.stderr]).toEqual([signal === 'SIGINT' ? 130 : 143, expect.any(String)]);
      // one line, and nothing from the work the signal cut short: no error, no "writing"
      expect(afterPause(stopped.stderr)).toEqual([`yumda: ${signal === 'SIGINT' ? 'interrupted' : 'terminated'}; removing containers and temporary files`]);
      expect(stopped.stdout).not.toMatch(/Wrote/);
      expect(readdirSync(out)).toEqual([]);
      expect(await containersOf(stopped.pid)).toEqual([]);
    }

    // the same command again: it finishes, removes what a killed run left, and gives the same bytes
    const next = await yumda(build);
    expect(next.code, next.stderr).toBe(0);
    expect(readdirSync(out).sort()).toEqual([`${PKG}.cdx.json`, `${PKG}.zip`]);
    expect(await containersOf(stopped.pid)).toEqual([]);
    expect(readFileSync(dest).equals(readFileSync(reference))).toBe(true);
  });
});

describe('outputs that belong together (issue 19, item 10)', () => {
  // the hook holds the process right after the zip is renamed into place, before its SBOM is: the
  // Ctrl-C that once left a zip without its .cdx.json lands exactly there
  it.each(['SIGINT', 'SIGTERM'] as const)('%s between the zip and its SBOM: both are in place or neither, no temporary', async (signal) => {
    const out = tempDir();
    const dest = path.join(out, `${PKG}.zip`);
    const stopped = await runAndSignal(['install', PKG, ...TARGET, '--out', dest, '--cache-dir', cache], `renamed:${PKG}.zip`, signal);
    expect(stopped.stderr).toContain(`test: paused at renamed onto ${dest}`);
    const code = signal === 'SIGINT' ? 130 : 143;
    const both = [`${PKG}.cdx.json`, `${PKG}.zip`];
    // stopped before the pair's commit: neither; after it: both, and the process may even finish
    // its last synchronous steps and exit 0 before the signal is handled
    expect([
      [code, []],
      [code, both],
      [0, both],
    ]).toContainEqual([stopped.code, readdirSync(out).sort()]);
    if (existsSync(dest)) expect(readFileSync(dest).equals(readFileSync(reference))).toBe(true);
  });
});

describe('cache clean while a build runs (issue 19, item 11c)', () => {
  it('the clean waits for the build, which finishes with the same bytes; then the cache is empty', async () => {
    const out = tempDir();
    const dest = path.join(out, `${PKG}.zip`);
    const go = path.join(tempDir(), 'go');
    // held while relocating: its staged tree points into the cache's content store (without the
    // zips, which hold the finished builds, the build relocates instead of reusing the last one)
    expect((await yumda(['cache', 'clean', '--only', 'zips', '--cache-dir', cache])).code).toBe(0);
    const child = spawn(process.execPath, ['--import', hook, cliPath, 'install', PKG, ...TARGET, '--out', dest, '--cache-dir', cache], {
      env: { ...env, YUMDA_TEST_PAUSE_AT: 'relocating', YUMDA_TEST_GO: go },
    });
    let stderr = '';
    child.stdout.resume();
    const paused = new Promise<void>((resolve) =>
      child.stderr.on('data', (c) => {
        stderr += c;
        if (stderr.includes('test: paused at')) resolve();
      }),
    );
    const built = new Promise<number | null>((resolve) => child.on('close', resolve));
    await paused;
    let cleanErr = '';
    const cleaner = spawn(process.execPath, [cliPath, 'cache', 'clean', '--cache-dir', cache], { env });
    cleaner.stdout.resume();
    const cleaned = new Promise<number | null>((resolve) => cleaner.on('close', resolve));
    // it says it waits; a clean that does not wait just ends
    const waiting = new Promise<void>((resolve) => {
      cleaner.stderr.on('data', (c) => {
        cleanErr += c;
        if (cleanErr.includes('waiting for')) resolve();
      });
      void cleaned.then(() => resolve());
    });
    await waiting;
    expect(cleanErr.trim()).toBe(`waiting for 1 running build (pid ${child.pid}) to finish with ${cache}; Ctrl-C to stop`);
    expect(existsSync(path.join(cache, 'content'))).toBe(true);
    writeFileSync(go, '');
    expect(await built, stderr).toBe(0);
    expect(stderr).not.toMatch(/error/);
    expect(readFileSync(dest).equals(readFileSync(reference))).toBe(true);
    expect(await cleaned).toBe(0);
    expect(readdirSync(cache).filter((n) => n !== '.users')).toEqual([]);
    // the cache is rebuilt by the next build, as after any clean
    expect((await yumda(['install', PKG, ...TARGET, '--out', dest, '--cache-dir', cache])).code).toBe(0);
  });
});

describe('the engine goes away during a build (issue 19, item 11a)', () => {
  it.each([`resolving ${PKG}`, 'downloading and unpacking', 'copying the unpacked packages out'])('at "%s": one line saying so, exit 1, no trace', async (pauseAt) => {
    const proxy = await engineProxy();
    const out = tempDir();
    const go = path.join(tempDir(), 'go');
    const child = spawn(process.execPath, ['--import', hook, cliPath, 'install', PKG, ...TARGET, '--out', path.join(out, 'x.zip'), '--cache-dir', tempDir(), '--refresh'], {
      env: { ...env, DOCKER_HOST: proxy.url, YUMDA_TEST_PAUSE_AT: pauseAt, YUMDA_TEST_GO: go },
    });
    let stderr = '';
    child.stdout.resume();
    const paused = new Promise<void>((resolve) =>
      child.stderr.on('data', (c) => {
        stderr += c;
        if (stderr.includes('test: paused at')) resolve();
      }),
    );
    const code = new Promise<number | null>((resolve) => child.on('close', resolve));
    try {
      await paused;
      await proxy.cut();
      writeFileSync(go, '');
      expect(await code).toBe(1);
      const lines = afterPause(stderr).filter((l) => l.startsWith('yumda:') || /^\s+at /.test(l) || /error/i.test(l));
      expect(lines).toEqual([
        expect.stringMatching(
          new RegExp(
            `^yumda: error: lost the connection to the Docker engine at ${proxy.url} \\((EPIPE|ECONNRESET|ECONNREFUSED|ENOENT)\\): it stopped or went away during the command; `,
          ),
        ),
      ]);
      expect(readdirSync(out)).toEqual([]);
    } finally {
      writeFileSync(go, '');
      await code;
      // the engine did not really go: the build container yumda could not remove is removed here
      const left = await containersOf(child.pid!);
      if (left.length) await run('docker', ['rm', '-f', ...left]);
    }
  });
});

describe('a full disk', () => {
  const mounts: string[] = [];
  afterAll(async () => {
    for (const m of mounts) await run('umount', [m]);
  });

  /** A tmpfs of `size` (as root, which CI is); undefined, with the reason, where mounting is not permitted. */
  async function smallDisk(size: string): Promise<{ dir?: string; why?: string }> {
    const dir = tempDir('yumda-full-');
    const r = await run('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', dir]);
    if (r.code !== 0) return { why: `mounting a tmpfs is not permitted here (it needs root): ${r.stderr.trim()}` };
    mounts.push(dir);
    return { dir };
  }

  /** Runs to the end, or fails the test if it has not ended after `ms`: a full disk once hung the build forever. */
  async function yumdaWithin(args: string[], ms: number): Promise<{ code: number | null; stderr: string; pid: number }> {
    const child = spawn(process.execPath, [cliPath, ...args], { env });
    let stderr = '';
    child.stderr.on('data', (c) => (stderr += c));
    child.stdout.resume();
    const timer = setTimeout(() => child.kill('SIGKILL'), ms);
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    clearTimeout(timer);
    if (code === null) throw new Error(`yumda did not end within ${ms / 1000} s (it hangs):\n${stderr}`);
    return { code, stderr, pid: child.pid! };
  }

  const files = (dir: string): string[] => readdirSync(dir, { recursive: true, encoding: 'utf8' });

  it('under the cache: one line naming it and the space needed, exit 1, no temporary file, no container', async (ctx) => {
    const disk = await smallDisk('600k');
    if (!disk.dir) return ctx.skip(disk.why);
    const out = tempDir();
    const r = await yumdaWithin(['install', PKG, ...TARGET, '--out', path.join(out, `${PKG}.zip`), '--cache-dir', path.join(disk.dir, 'cache')], 180_000);
    const lines = r.stderr.split('\n').filter((l) => l.startsWith('yumda:') || /^\s*at /.test(l));
    expect(lines).toEqual([expect.stringMatching(new RegExp(`^yumda: error: no space left on device writing ${disk.dir}/cache \\(it needs about [0-9.]+ [KM]iB\\); `))]);
    expect(r.code).toBe(1);
    expect(files(disk.dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
    expect(readdirSync(out)).toEqual([]);
    expect(await containersOf(r.pid)).toEqual([]);
  });

  it('under an image tarball (image --layer --oci and --docker-archive): one line, exit 1, nothing left (issue 19, item 11d)', async (ctx) => {
    const disk = await smallDisk('64k');
    if (!disk.dir) return ctx.skip(disk.why);
    for (const format of ['--oci', '--docker-archive']) {
      const dest = path.join(disk.dir, 'image.tar');
      const r = await yumdaWithin(['image', '--layer', reference, format, dest], 60_000);
      const lines = r.stderr.split('\n').filter((l) => l.startsWith('yumda:') || /^\s*at /.test(l) || l.includes('Error'));
      expect(lines).toEqual([expect.stringMatching(new RegExp(`^yumda: error: no space left on device writing ${dest}; `))]);
      expect(r.code).toBe(1);
      expect(files(disk.dir)).toEqual([]);
    }
  });

  it('under the output only: one line naming the output, exit 1, nothing left on that disk', async (ctx) => {
    const disk = await smallDisk('128k');
    if (!disk.dir) return ctx.skip(disk.why);
    mkdirSync(path.join(disk.dir, 'out'));
    expect((await yumda(['cache', 'clean', '--only', 'zips', '--cache-dir', cache])).code).toBe(0);
    const dest = path.join(disk.dir, 'out', `${PKG}.zip`);
    const r = await yumdaWithin(['install', PKG, ...TARGET, '--out', dest, '--cache-dir', cache], 120_000);
    const lines = r.stderr.split('\n').filter((l) => l.startsWith('yumda:') || /^\s*at /.test(l));
    expect(lines).toEqual([expect.stringMatching(new RegExp(`^yumda: error: no space left on device writing ${dest}; `))]);
    expect(r.code).toBe(1);
    expect(files(disk.dir)).toEqual(['out']);
  });
});
