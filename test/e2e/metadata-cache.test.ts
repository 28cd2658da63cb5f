import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { buildDeb, indexAptRepo, makeAptRepo } from '../helpers/aptrepo.js';
import { repoRoot, run, runYumda } from '../helpers/cli.js';
import { listMetadataVolumes, removeMetadataVolumes } from '../../src/cache/metadata-volumes.js';
import { ensureTestImage } from '../helpers/images.js';
import { buildRpm, makeRepo } from '../helpers/rpmrepo.js';
import { serveDirectory } from '../helpers/serve.js';
import { tempDir } from '../helpers/tmp.js';

/**
 * Issue 19, item 16: repository metadata is reused for an hour, so a package added to a --repo
 * repository in that hour is not found. The error must then say the metadata came from the cache
 * and that --refresh fetches it anew; with --refresh the package is found. For apt (a flat
 * repository the test builds with dpkg-deb) and for dnf (one built with rpmbuild, in the stand-in
 * build image), each served on loopback.
 */
const servers: Array<{ close: () => Promise<void> }> = [];
afterAll(async () => {
  for (const s of servers) await s.close();
});

const line = (stderr: string) => stderr.split('\n').filter((l) => l.startsWith('yumda:'));

describe('a package added to a --repo repository while its metadata is cached', () => {
  it('apt: the not-found error says the metadata is cached and names --refresh; --refresh finds it', async () => {
    const repo = path.join(tempDir(), 'repo');
    const data = (name: string) => ({ [`/usr/share/${name}/data.txt`]: { data: `${name}\n` } });
    await makeAptRepo(repo, [{ name: 'yumda-first', version: '1.0-1', files: data('yumda-first') }]);
    const server = await serveDirectory(repo);
    servers.push(server);
    const cache = tempDir();
    const args = (pkg: string) => ['install', pkg, '--target', 'debian12', '--repo', `${server.url} ./`, '--cache-dir', cache, '--dry-run'];

    const first = await runYumda(args('yumda-first'));
    expect(first.code, first.stderr).toBe(0);
    await buildDeb(repo, { name: 'yumda-added', version: '1.0-1', files: data('yumda-added') });
    await indexAptRepo(repo);

    const stale = await runYumda(args('yumda-added'));
    expect(stale.code).toBe(1);
    expect(line(stale.stderr)).toEqual([
      expect.stringMatching(
        /^yumda: error: package 'yumda-added' was not found in the debian12 repositories; the repository metadata came from the cache \(fetched \d+ s ago\); --refresh fetches it anew/,
      ),
    ]);
    const refreshed = await runYumda([...args('yumda-added'), '--refresh']);
    expect(refreshed.code, refreshed.stderr).toBe(0);
    expect(refreshed.stdout).toMatch(/yumda-added\s+1\.0-1/);
    // fetched just now: a package that is really missing is not blamed on the cache
    const missing = await runYumda([...args('yumda-never'), '--refresh']);
    expect(line(missing.stderr)).toEqual(["yumda: error: package 'yumda-never' was not found in the debian12 repositories"]);
  });

  it('dnf: the same, with the stand-in build image', async () => {
    const work = tempDir();
    const buildImage = await ensureTestImage('yumda-test/rpm-build-standin', path.join(repoRoot, 'test/images/rpm-build-standin'));
    const repo = path.join(work, 'repo');
    const rpm = (name: string) => buildRpm(work, { name, version: '1.0', arch: 'noarch', files: { [`/usr/share/${name}/data.txt`]: { data: `${name}\n` } } });
    await makeRepo(repo, [await rpm('yumda-first')]);
    const server = await serveDirectory(repo);
    servers.push(server);
    const cache = tempDir();
    const args = (pkg: string) => [
      'install',
      pkg,
      '--target',
      'al2023',
      '--build-image',
      buildImage,
      '--no-default-repos',
      '--repo',
      server.url,
      '--cache-dir',
      cache,
      '--dry-run',
    ];

    const first = await runYumda(args('yumda-first'));
    expect(first.code, first.stderr).toBe(0);
    await makeRepo(repo, [await rpm('yumda-added')]);

    const stale = await runYumda(args('yumda-added'));
    expect(stale.code).toBe(1);
    expect(line(stale.stderr)).toEqual([
      expect.stringMatching(
        /^yumda: error: package 'yumda-added' was not found in the al2023 repositories; the repository metadata came from the cache \(fetched \d+ s ago\); --refresh fetches it anew/,
      ),
    ]);
    const refreshed = await runYumda([...args('yumda-added'), '--refresh']);
    expect(refreshed.code, refreshed.stderr).toBe(0);
    expect(refreshed.stdout).toMatch(/yumda-added\s+1\.0-1/);
  });

  it('cache info sizes the metadata volumes; cleaning them removes an unused one and leaves one a container uses', async () => {
    const suffix = Math.random().toString(16).slice(2, 10);
    const idle = `yumda-apt-lists-yumdatest-${suffix}-idle`;
    const busy = `yumda-apt-lists-yumdatest-${suffix}-busy`;
    for (const v of [idle, busy]) expect((await run('docker', ['volume', 'create', v])).code).toBe(0);
    const holder = await run('docker', ['run', '-d', '--network', 'none', '-v', `${busy}:/x`, 'debian:12-slim', 'sleep', '120']);
    expect(holder.code, holder.stderr).toBe(0);
    try {
      const info = await runYumda(['cache', 'info', '--json']);
      expect(info.code, info.stderr).toBe(0);
      const listed = (JSON.parse(info.stdout) as { metadataVolumes: Array<{ name: string; users: number }> }).metadataVolumes;
      expect(listed.find((v) => v.name === idle)?.users).toBe(0);
      expect(listed.find((v) => v.name === busy)?.users).toBe(1);
      // the function `cache clean --metadata` runs, on this test's volumes only (the command removes every one of the engine's)
      const { connectEngine } = await import('../../src/docker/engine.js');
      const docker = await connectEngine();
      const mine = (await listMetadataVolumes(docker)).filter((v) => v.name.includes(suffix));
      expect(await removeMetadataVolumes(docker, mine)).toEqual({ removed: [idle], inUse: [busy] });
      expect((await run('docker', ['volume', 'inspect', idle])).code).not.toBe(0);
      expect((await run('docker', ['volume', 'inspect', busy])).code).toBe(0);
    } finally {
      await run('docker', ['rm', '-f', holder.stdout.trim()]);
      await run('docker', ['volume', 'rm', '-f', idle, busy]);
    }
  });
});
