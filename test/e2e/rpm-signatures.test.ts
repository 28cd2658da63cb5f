import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { withContainer } from '../../src/docker/container.js';
import { connectEngine } from '../../src/docker/engine.js';
import { dockerfileBase } from '../../src/docker/images.js';
import { tarOf } from '../../src/tree/tar.js';
import { parseArch } from '../../src/registry/arch.js';
import { loadRuntime, loadTarget } from '../../src/registry/load.js';
import type { ResolveContext } from '../../src/resolve/backend.js';
import type { PlannedPackage } from '../../src/resolve/plan.js';
import { rpmBackend } from '../../src/backends/rpm/resolve.js';
import { repoRoot } from '../helpers/cli.js';
import { tempDir } from '../helpers/tmp.js';
import { ensureTestImage } from '../helpers/images.js';
import { buildRpm, makeRepo } from '../helpers/rpmrepo.js';
import { serveDirectory } from '../helpers/serve.js';
import { signingKey, signRpm } from '../helpers/rpm-sign.js';

/**
 * The Amazon Linux targets check package signatures (gpgcheck, the distribution's key). Amazon's
 * repositories cannot be reached here, so a key is made in the test, packages are signed with
 * rpmsign, and the rpm backend stages them from a repository that names that key.
 */
describe('rpm signature checks', () => {
  const work = tempDir('yumda-sig-');
  const gnupg = path.join(work, 'gnupg');
  let server: Awaited<ReturnType<typeof serveDirectory>>;
  let buildImage: string;
  let publicKey: Buffer;

  beforeAll(async () => {
    buildImage = await ensureTestImage('yumda-test/rpm-build-standin', path.join(repoRoot, 'test/images/rpm-build-standin'));
    const other = path.join(work, 'gnupg-other');
    publicKey = await signingKey(gnupg, 'yumda test <test@yumda.invalid>');
    await signingKey(other, 'someone else <else@yumda.invalid>');
    const build = path.join(work, 'build');
    const ok = await buildRpm(build, { name: 'sig-ok', version: '1', arch: 'noarch', files: { '/usr/share/sig/ok': { data: 'signed\n' } } });
    const none = await buildRpm(build, { name: 'sig-none', version: '1', arch: 'noarch', files: { '/usr/share/sig/none': { data: 'unsigned\n' } } });
    const wrong = await buildRpm(build, { name: 'sig-wrong', version: '1', arch: 'noarch', files: { '/usr/share/sig/wrong': { data: 'other key\n' } } });
    await signRpm(ok, gnupg, 'yumda test');
    await signRpm(wrong, other, 'someone else');
    const repo = path.join(work, 'repo');
    await makeRepo(repo, [ok, none, wrong]);
    server = await serveDirectory(repo);
  });
  afterAll(async () => server?.close());

  async function stage(name: string): Promise<void> {
    const docker = await connectEngine();
    const ctx: ResolveContext = {
      target: loadTarget('al2023'),
      runtime: loadRuntime('provided.al2023'),
      arch: parseArch('x86_64'),
      repositories: [{ id: 'signed', url: server.url, gpgcheck: true, gpgkey: '/yumda/keys/test.asc' }],
    };
    const p: PlannedPackage = {
      name,
      version: '1-1',
      arch: 'noarch',
      downloadSize: 0,
      installedSize: 0,
      requiredBy: [name],
      requested: true,
      provides: [name],
      depends: [],
      repository: 'signed',
    };
    await withContainer(docker, { image: buildImage, network: 'host' }, async (c) => {
      const files = rpmBackend.configFiles(ctx);
      files.set('/yumda/keys/test.asc', publicKey.toString());
      await c.putArchive('/', await tarOf(files));
      await rpmBackend.refresh(c, ctx, () => undefined, { maxAgeMinutes: 60, force: true });
      await rpmBackend.stage(c, ctx, [p], () => undefined);
    });
  }

  it("stages a package signed with the repository's key", async () => {
    await expect(stage('sig-ok')).resolves.toBeUndefined();
  });

  it('refuses an unsigned package', async () => {
    await expect(stage('sig-none')).rejects.toThrow(/^a package failed its signature check: signature check failed \(not signed\): .*sig-none/);
  });

  it('refuses a package signed with another key', async () => {
    await expect(stage('sig-wrong')).rejects.toThrow(/^a package failed its signature check: signature check failed: .*sig-wrong.*(NOKEY|NOT OK)/);
  });

  it('the real targets name the key their base image carries', () => {
    expect(loadTarget('al2023').repositories[0]).toMatchObject({ gpgcheck: true, gpgkey: '/etc/pki/rpm-gpg/RPM-GPG-KEY-amazon-linux-2023' });
    expect(loadTarget('al2').repositories[0]).toMatchObject({ gpgcheck: true, gpgkey: '/etc/pki/rpm-gpg/RPM-GPG-KEY-amazon-linux-2' });
    // the Dockerfile takes its base as ARG BASE (another architecture's stand-in replaces it); its default is the real image
    expect(dockerfileBase(path.join(repoRoot, 'images/al2023/Dockerfile'))).toBe('public.ecr.aws/amazonlinux/amazonlinux:2023');
  });
});
