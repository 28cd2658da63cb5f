import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { liveUsers, useCacheForBuild, whileNoBuildRuns } from '../../src/cache/users.js';
import { currentOwner, processStart } from '../../src/util/owner.js';
import { tempDir } from '../helpers/tmp.js';

/**
 * Issue 19, item 11c: `cache clean` while a build runs once removed the content store under it
 * (ENOENT in the build). A clean now waits for running builds, and a build for a running clean.
 * Another process is stood in for by a `sleep` child, marked as that process would mark itself.
 */
const children: ChildProcess[] = [];
afterEach(() => {
  for (const c of children.splice(0)) c.kill('SIGKILL');
});

async function otherProcess(root: string, role: 'build' | 'clean'): Promise<ChildProcess> {
  const child = spawn('sleep', ['60']);
  children.push(child);
  await new Promise((resolve) => child.once('spawn', resolve));
  mkdirSync(path.join(root, '.users'), { recursive: true });
  writeFileSync(path.join(root, '.users', `${role}-${child.pid}.json`), JSON.stringify({ pid: child.pid, host: currentOwner().host, start: processStart(child.pid!) ?? '' }));
  return child;
}

const ended = (child: ChildProcess) => new Promise((resolve) => child.once('exit', resolve));

describe('cache clean and builds wait for each other', () => {
  it('a clean waits for a running build, says so once, and cleans when it ends', async () => {
    const root = tempDir();
    const build = await otherProcess(root, 'build');
    const lines: string[] = [];
    let cleaned = false;
    const clean = whileNoBuildRuns(
      root,
      async () => {
        cleaned = true;
        return 'done';
      },
      (l) => lines.push(l),
    );
    await new Promise((resolve) => setTimeout(resolve, 600));
    expect(cleaned).toBe(false);
    expect(lines).toEqual([`waiting for 1 running build (pid ${build.pid}) to finish with ${root}; Ctrl-C to stop`]);
    build.kill('SIGKILL');
    await ended(build);
    await expect(clean).resolves.toBe('done');
    expect(readdirSync(path.join(root, '.users'))).toEqual([]);
  });

  it('a build waits for a running clean, then marks itself', async () => {
    const root = tempDir();
    const cleaner = await otherProcess(root, 'clean');
    const lines: string[] = [];
    let ready = false;
    const using = useCacheForBuild(root, (l) => lines.push(l)).then(() => (ready = true));
    await new Promise((resolve) => setTimeout(resolve, 600));
    expect(ready).toBe(false);
    expect(lines).toEqual([`waiting for \`yumda cache clean\` (pid ${cleaner.pid}) to finish with ${root}`]);
    // while it waits, its own mark is not there: the clean does not wait for it in turn
    expect(existsSync(path.join(root, '.users', `build-${process.pid}.json`))).toBe(false);
    cleaner.kill('SIGKILL');
    await ended(cleaner);
    await using;
    expect(existsSync(path.join(root, '.users', `build-${process.pid}.json`))).toBe(true);
  });

  it('marks of processes that are gone (kill -9) are removed, not waited for', async () => {
    const root = tempDir();
    const dead = await otherProcess(root, 'build');
    dead.kill('SIGKILL');
    await ended(dead);
    expect(liveUsers(root, 'build')).toEqual([]);
    expect(readdirSync(path.join(root, '.users'))).toEqual([]);
    await expect(
      whileNoBuildRuns(
        root,
        async () => 1,
        () => undefined,
      ),
    ).resolves.toBe(1);
  });
});
