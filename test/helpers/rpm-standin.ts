import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { LAMBDA_ENV } from '../../src/registry/refresh.js';
import type { Runtime } from '../../src/registry/types.js';
import { buildFixtureRepo, type FixtureRepo } from './fixture-repo.js';
import { ensureTestImage, imageFrom } from './images.js';
import { ensureRuntimeImage } from './lambda.js';
import { repoRoot, run, runYumda } from './cli.js';
import { rpmQuery } from './rpmrepo.js';
import { serveDirectory } from './serve.js';

/**
 * What the rpm targets are tested with where no Amazon Linux can be reached: the fixture RPM
 * repository (fixture-repo.ts) served on loopback, the stand-in build image (Debian with Debian's
 * dnf and rpm), and a runtime that has the repository's runtime packages: an image to run layers
 * in and its runtime manifest.
 */
export interface RpmStandin {
  repo: FixtureRepo;
  server: Awaited<ReturnType<typeof serveDirectory>>;
  buildImage: string;
  runtimeImage: string;
  /** The runtime manifest file (for --runtime-manifest). */
  runtimeManifest: string;
  runtime: Runtime;
}

/** For aarch64: the repository cross-compiled, the runtime built on the arm64 debian12 image (run under emulation). */
export async function rpmStandin(work: string, arch: 'x86_64' | 'aarch64' = 'x86_64'): Promise<RpmStandin> {
  const repo = await buildFixtureRepo(path.join(work, 'fixture'), arch);
  const server = await serveDirectory(repo.dir);
  const buildImage = await ensureTestImage('yumda-test/rpm-build-standin', path.join(repoRoot, 'test/images/rpm-build-standin'));

  // The runtime: debian12's Lambda-like image plus the runtime's own libbase.so.1 and libold.so.1.
  const base = await ensureRuntimeImage('yumda/runtime-debian12', 'images/runtime-debian12', arch === 'aarch64' ? 'arm64' : 'x86_64');
  const runtimeImage = await imageFrom('yumda-test/runtime-rpm-standin', path.join(work, 'runtime-image'), `FROM ${base}\nCOPY libbase.so.1 libold.so.1 /usr/lib64/\n`, {
    'libbase.so.1': readFileSync(repo.runtimeLibs['libbase.so.1']!),
    'libold.so.1': readFileSync(repo.runtimeLibs['libold.so.1']!),
  });
  // Its manifest: packages with their provides as rpm reads them from the packages it was made
  // of, libraries as `yumda runtime refresh` reads them from the image.
  const inv = path.join(work, 'inventory.json');
  const refreshed = await runYumda(['runtime', 'refresh', runtimeImage, '--runtime', 'debian12', '--out', inv]);
  if (refreshed.code !== 0) throw new Error(`yumda runtime refresh ${runtimeImage} failed: ${refreshed.stderr}`);
  const libraries = (JSON.parse(readFileSync(inv, 'utf8')) as Runtime).libraries;
  const packages = [];
  for (const f of repo.runtimeRpms) {
    const [name, version, arch] = (await run('rpm', ['-qp', '--nosignature', '--qf', '%{NAME}\\t%{VERSION}-%{RELEASE}\\t%{ARCH}', f])).stdout.split('\t');
    packages.push({ name: name!, version: version!, arch: arch!, provides: await rpmQuery(f, 'PROVIDENEVRS') });
  }
  const runtime: Runtime = {
    id: 'provided.standin',
    description: 'the stand-in runtime of the rpm tests',
    image: runtimeImage,
    family: 'rpm',
    lambda: LAMBDA_ENV,
    shell: '/bin/sh',
    provenance: { source: runtimeImage, method: 'test/helpers/rpm-standin.ts', date: '2026-11-27' },
    packages,
    libraries,
  };
  const runtimeManifest = path.join(work, 'runtime.json');
  writeFileSync(runtimeManifest, JSON.stringify(runtime, null, 2));
  return { repo, server, buildImage, runtimeImage, runtimeManifest, runtime };
}
