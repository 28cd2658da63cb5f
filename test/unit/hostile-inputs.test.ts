import { execFileSync } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { describeRun, runYumdaBounded, type BoundedResult } from '../helpers/bounded.js';
import { tempDir } from '../helpers/tmp.js';

/**
 * Issue 19: files a user names that are no files (a FIFO, /dev/zero) or far too big, and a Docker
 * engine that accepts connections and never answers. Every run has a time and a memory bound
 * (helpers/bounded.ts): a hang or a runaway read fails the test in seconds instead of stalling CI.
 * None of them needs a Docker engine.
 */

function expectOneLine(r: BoundedResult, line: RegExp): void {
  expect(r.killed, describeRun(r)).toBeUndefined();
  expect(r.code, describeRun(r)).toBe(1);
  const lines = r.stderr.split('\n').filter(Boolean);
  expect(
    lines.filter((l) => l.startsWith('yumda: ')),
    describeRun(r),
  ).toHaveLength(1);
  expect(r.stderr).not.toMatch(/internal error|\n\s+at /);
  expect(
    lines.find((l) => l.startsWith('yumda: ')),
    describeRun(r),
  ).toMatch(line);
}

describe('every file a user names: a regular file of a bounded size, or one line (was: blocked forever, or read until memory ran out)', () => {
  const work = tempDir();
  const fifo = path.join(work, 'fifo.json');
  execFileSync('mkfifo', [fifo]);
  const big = path.join(work, 'big.json');
  writeFileSync(big, Buffer.alloc(20 * 1024 * 1024, 0x20));
  // a manifest and a lock of a project whose lock is a FIFO
  const project = path.join(work, 'project');
  mkdirSync(project);
  writeFileSync(path.join(project, 'yumda.yaml'), 'layers:\n  - name: jq\n    target: debian12\n    packages: [jq]\n');
  execFileSync('mkfifo', [path.join(project, 'yumda.lock')]);
  const recipes = path.join(work, 'recipes');
  mkdirSync(recipes);
  execFileSync('mkfifo', [path.join(recipes, 'evil.json')]);
  // the runs need no engine: one that cannot be reached fails only what gets that far
  const env = { DOCKER_HOST: 'unix:///nonexistent.sock' };

  it.each<[string, string[], RegExp]>([
    [
      '--runtime-manifest naming a FIFO',
      ['install', 'jq', '--target', 'debian12', '--runtime-manifest', fifo],
      /fifo\.json is a pipe \(FIFO\).*, not a runtime manifest; save it to a file first/,
    ],
    [
      '--runtime-manifest /dev/zero',
      ['install', 'jq', '--target', 'debian12', '--runtime-manifest', '/dev/zero'],
      /^yumda: error: \/dev\/zero is a device, not a runtime manifest/,
    ],
    [
      '--runtime-manifest of 20 MiB',
      ['install', 'jq', '--target', 'debian12', '--runtime-manifest', big],
      /big\.json is larger than 16\.0 MiB \(16777216 bytes\), far more than a runtime manifest holds; refusing to read it/,
    ],
    ['--manifest naming a FIFO', ['build', '--manifest', fifo], /fifo\.json is a pipe \(FIFO\).*, not a yumda manifest/],
    ['--manifest /dev/zero', ['build', '--manifest', '/dev/zero'], /\/dev\/zero is a device, not a yumda manifest/],
    ['a yumda.lock that is a FIFO', ['build', '--manifest', path.join(project, 'yumda.yaml')], /yumda\.lock is a pipe \(FIFO\).*, not a yumda lock/],
    ['a recipe that is a FIFO (--recipes DIR)', ['install', 'jq', '--target', 'debian12', '--recipes', recipes], /evil\.json is a pipe \(FIFO\).*, not a recipe/],
    ['a recipe that is a FIFO (--recipes FILE)', ['install', 'jq', '--target', 'debian12', '--recipes', fifo], /fifo\.json is a pipe \(FIFO\).*, not a recipe/],
    ['inspect /dev/zero (a layer input, checked as before)', ['inspect', '/dev/zero'], /\/dev\/zero is a device, not a layer zip or image tarball/],
  ])('%s: one line, at once, in bounded memory', async (_what, args, line) => {
    const r = await runYumdaBounded(args, { cwd: work, env, timeoutMs: 20_000, maxRssMiB: 400 });
    expectOneLine(r, line);
    expect(r.ms).toBeLessThan(10_000);
    expect(r.peakRssMiB).toBeLessThan(400);
  });

  it('SIGTERM ends the process, whatever it is waiting for (a FIFO given as a runtime manifest blocked it, deaf to SIGTERM)', async () => {
    const r = await runYumdaBounded(['install', 'jq', '--target', 'debian12', '--runtime-manifest', fifo], {
      cwd: work,
      env,
      timeoutMs: 15_000,
      signal: { name: 'SIGTERM', afterMs: 3000 },
    });
    expect(r.killed, describeRun(r)).toBeUndefined();
    expect(r.ms).toBeLessThan(5000);
  });
});

describe('a Docker engine that accepts connections and never answers', () => {
  const dir = tempDir();
  const sock = path.join(dir, 'docker.sock');
  const held: net.Socket[] = [];
  const server = net.createServer((s) => held.push(s));
  const listening = new Promise<void>((resolve) => server.listen(sock, resolve));
  afterAll(() => {
    for (const s of held) s.destroy();
    server.close();
    rmSync(sock, { force: true });
  });

  it('one line after the 10 s ping, then the process exits (was: lingered 300 s after the error)', async () => {
    await listening;
    const r = await runYumdaBounded(['install', 'jq', '--target', 'debian12', '--out', path.join(dir, 'jq.zip')], {
      cwd: dir,
      env: { DOCKER_HOST: `unix://${sock}` },
      timeoutMs: 40_000,
    });
    expectOneLine(r, /^yumda: error: the Docker engine is not reachable at unix:\/\/\S+docker\.sock \(ETIMEDOUT\)/);
    expect(held.length).toBeGreaterThan(0);
    expect(r.ms).toBeLessThan(14_000);
  }, 60_000);

  it('SIGTERM while waiting for it ends the process at once, 143', async () => {
    await listening;
    const r = await runYumdaBounded(['install', 'jq', '--target', 'debian12', '--out', path.join(dir, 'jq.zip')], {
      cwd: dir,
      env: { DOCKER_HOST: `unix://${sock}` },
      timeoutMs: 20_000,
      signal: { name: 'SIGTERM', afterMs: 2000 },
    });
    expect(r.killed, describeRun(r)).toBeUndefined();
    expect(r.code).toBe(143);
    expect(r.ms).toBeLessThan(5000);
  }, 30_000);
});
