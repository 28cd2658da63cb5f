import { spawn } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { cliPath, run } from '../helpers/cli.js';
import { tempDir } from '../helpers/tmp.js';

/** The containers the yumda process `pid` made (other test files build at the same time). */
async function yumdaContainers(pid: number): Promise<string[]> {
  const r = await run('docker', ['ps', '-aq', '--filter', 'label=org.yumda.owner=yumda', '--filter', `label=org.yumda.pid=${pid}`]);
  return r.stdout.split('\n').filter(Boolean);
}

describe('interrupting a build', () => {
  it('Ctrl-C removes the build container and leaves no output or temporary file', async () => {
    const d = tempDir();
    // an empty cache: the build must start its container (a cached plan would not)
    const child = spawn(process.execPath, [cliPath, 'install', 'poppler-utils', '--target', 'debian12', '--out', path.join(d, 'p.zip'), '--cache-dir', tempDir()], {
      env: { ...process.env, YUMDA_DOCKER_NETWORK: process.env.YUMDA_DOCKER_NETWORK ?? 'host', CI: 'true' },
    });
    let stderr = '';
    const sawStep = new Promise<void>((resolve) => {
      child.stderr.on('data', (c) => {
        stderr += c;
        if (/reading the debian12 repositories/.test(stderr)) resolve();
      });
    });
    await sawStep;
    expect((await yumdaContainers(child.pid!)).length).toBeGreaterThan(0);
    child.kill('SIGINT');
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    expect(code).toBe(130);
    expect(stderr).toMatch(/interrupted; removing containers/);
    expect(await yumdaContainers(child.pid!)).toEqual([]);
    expect(readdirSync(d)).toEqual([]);
    expect(existsSync(path.join(d, 'p.zip'))).toBe(false);
  });

  it('Ctrl-C while the packages download, with the scratch root of the scripts step started beside the build container, removes both', async () => {
    const d = tempDir();
    const child = spawn(process.execPath, [cliPath, 'install', 'poppler-utils', '--target', 'debian12', '--out', path.join(d, 'p.zip'), '--cache-dir', tempDir()], {
      env: { ...process.env, YUMDA_DOCKER_NETWORK: process.env.YUMDA_DOCKER_NETWORK ?? 'host', CI: 'true' },
    });
    let stderr = '';
    child.stderr.on('data', (c) => {
      stderr += c;
    });
    const closed = new Promise<number | null>((resolve) => child.on('close', resolve));
    // the scratch root starts when the staging does, so both containers are up until the scripts step ends
    let containers: string[] = [];
    for (let i = 0; i < 300 && containers.length < 2 && child.exitCode === null; i++) {
      await new Promise((r) => setTimeout(r, 100));
      if (/downloading and unpacking/.test(stderr)) containers = await yumdaContainers(child.pid!);
    }
    expect(containers).toHaveLength(2);
    child.kill('SIGINT');
    expect(await closed).toBe(130);
    expect(stderr).toMatch(/interrupted; removing containers/);
    expect(await yumdaContainers(child.pid!)).toEqual([]);
    expect(readdirSync(d)).toEqual([]);
  });
});
