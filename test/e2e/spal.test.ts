import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run, runYumda } from '../helpers/cli.js';
import { runLambdaLike } from '../helpers/lambda.js';
import { rpmStandin, type RpmStandin } from '../helpers/rpm-standin.js';
import { signingKey, signRpm } from '../helpers/rpm-sign.js';
import { buildRpm, gcc, makeRepo } from '../helpers/rpmrepo.js';
import { serveDirectory } from '../helpers/serve.js';
import { tempDir } from '../helpers/tmp.js';

/**
 * Issue 21 §4, SPAL (Supplementary Packages for Amazon Linux), with stand-ins: AWS's repositories
 * cannot be reached here. The stand-in core repository (the rpm tests' fixture repository) gains a
 * `spal-release` package that installs, as AWS's does, a .repo file for `amazonlinux-spal` and the
 * key its packages are signed with; that .repo file points at a second stand-in repository on
 * loopback, whose packages are signed with that key.
 */
describe('SPAL: --repo spal enables it through spal-release, as AWS documents', () => {
  const work = tempDir('yumda-spal-');
  let standin: RpmStandin;
  let spal: Awaited<ReturnType<typeof serveDirectory>>;

  /** `yumda install` for al2023 with the stand-in build image, core repository and runtime. */
  const install = (args: string[]) =>
    runYumda([
      'install',
      ...args,
      '--target',
      'al2023',
      '--build-image',
      standin.buildImage,
      '--no-default-repos',
      '--repo',
      standin.server.url,
      '--runtime-manifest',
      standin.runtimeManifest,
    ]);

  beforeAll(async () => {
    standin = await rpmStandin(work);
    const build = path.join(work, 'spal-build');
    const key = await signingKey(path.join(work, 'gnupg-spal'), 'SPAL stand-in <spal@yumda.invalid>');
    await signingKey(path.join(work, 'gnupg-other'), 'someone else <else@yumda.invalid>');

    // the SPAL stand-in: a program, a package that provides `ffmpeg` under another name (as SPAL's ffmpeg-free does), one signed with another key
    mkdirSync(path.join(build, 'c'), { recursive: true });
    writeFileSync(path.join(build, 'c', 'spaltool.c'), '#include <stdio.h>\nint main(void) { puts("spaltool from the SPAL stand-in"); return 0; }\n');
    await gcc(path.join(build, 'c'), ['-O1', '-o', 'spaltool', 'spaltool.c']);
    const spaltool = await buildRpm(build, {
      name: 'spaltool',
      version: '2.1',
      release: '1.spal2023',
      files: { '/usr/bin/spaltool': { data: readFileSync(path.join(build, 'c', 'spaltool')), mode: 0o755 } },
    });
    const ffmpeg = await buildRpm(build, {
      name: 'ffmpeg-free',
      version: '7.1.1',
      release: '1.spal2023',
      arch: 'noarch',
      files: { '/usr/share/ffmpeg-free/README': { data: 'stand-in\n' } },
      provides: ['ffmpeg = 7.1.1'],
    });
    const badsig = await buildRpm(build, { name: 'spal-badsig', version: '1', arch: 'noarch', files: { '/usr/share/spal-badsig/README': { data: 'x\n' } } });
    await signRpm(spaltool, path.join(work, 'gnupg-spal'), 'SPAL stand-in');
    await signRpm(ffmpeg, path.join(work, 'gnupg-spal'), 'SPAL stand-in');
    await signRpm(badsig, path.join(work, 'gnupg-other'), 'someone else');
    await makeRepo(path.join(work, 'spal-repo'), [spaltool, ffmpeg, badsig]);
    spal = await serveDirectory(path.join(work, 'spal-repo'));

    // spal-release in the core repository: its .repo file (a debuginfo section too, disabled, as AWS's has) and its key
    const repoFile = [
      '[amazonlinux-spal]',
      'name=Amazon Linux SPAL stand-in - $basearch',
      `baseurl=${spal.url}`,
      'enabled=1',
      'gpgcheck=1',
      'gpgkey=file:///etc/pki/rpm-gpg/RPM-GPG-KEY-amazon-linux-spal',
      '',
      '[amazonlinux-spal-debuginfo]',
      'name=Amazon Linux SPAL stand-in debuginfo',
      `baseurl=${spal.url}/debuginfo`,
      'enabled=0',
      '',
    ].join('\n');
    const release = await buildRpm(build, {
      name: 'spal-release',
      version: '2023',
      arch: 'noarch',
      files: { '/etc/yum.repos.d/amazonlinux-spal.repo': { data: repoFile }, '/etc/pki/rpm-gpg/RPM-GPG-KEY-amazon-linux-spal': { data: key } },
    });
    await makeRepo(standin.repo.dir, [release]);
  });
  afterAll(async () => {
    await spal?.close();
    await standin?.server.close();
  });

  it('plans a package from the SPAL stand-in, shows the repository, and says once that SPAL has no AWS support', async () => {
    const json = await install(['spaltool', '--repo', 'spal', '--dry-run', '--json']);
    expect(json.stderr).not.toMatch(/error/);
    expect(json.code).toBe(0);
    const plan = JSON.parse(json.stdout) as {
      packages: Array<{ name: string; version: string; repository?: string }>;
      notes?: string[];
      repositories: Array<{ id: string; release?: string }>;
    };
    expect(plan.packages.map((p) => [p.name, p.version, p.repository])).toEqual([['spaltool', '2.1-1.spal2023', 'amazonlinux-spal']]);
    expect(plan.repositories.map((r) => r.id)).toContain('amazonlinux-spal');
    expect(plan.notes).toEqual(['amazonlinux-spal: 1 package; SPAL packages have no AWS support and no AWS CVE tracking']);

    const text = await install(['spaltool', '--repo', 'spal', '--dry-run']);
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/^ {2}PACKAGE +VERSION +SIZE +PULLED IN BY +REPOSITORY$/m);
    expect(text.stdout).toMatch(/^ {2}spaltool +2\.1-1\.spal2023 +\S+ \S+ +\(requested\) +amazonlinux-spal$/m);
    expect(text.stdout.match(/no AWS support and no AWS CVE tracking/g)).toHaveLength(1);
    expect(text.stdout).toMatch(/amazonlinux-spal \(configured by spal-release\)/);
  });

  it('builds the layer: the package is checked against the key spal-release installed, and runs Lambda-like', async () => {
    const out = path.join(work, 'spaltool.zip');
    const r = await install(['spaltool', '--repo', 'spal', '--out', out]);
    expect(r.stderr).not.toMatch(/error/);
    expect(r.code).toBe(0);
    const dir = path.join(work, 'spaltool-opt');
    expect((await run('unzip', ['-q', out, '-d', dir])).code).toBe(0);
    chmodSync(work, 0o755);
    chmodSync(dir, 0o755);
    const ran = await runLambdaLike(standin.runtimeImage, dir, 'spaltool');
    expect(ran.stderr).toBe('');
    expect(ran.stdout).toBe('spaltool from the SPAL stand-in\n');
  });

  it("refuses a SPAL package signed with another key than spal-release's", async () => {
    const out = path.join(work, 'badsig.zip');
    const r = await install(['spal-badsig', '--repo', 'spal', '--out', out, '--quiet']);
    expect(r.code).toBe(1);
    expect(r.stderr.trim().split('\n')).toEqual([expect.stringMatching(/^yumda: error: a package failed its signature check: signature check failed: .*spal-badsig/)]);
    expect(existsSync(out)).toBe(false);
  });

  it('a package not found for al2023 says whether SPAL has it, and suggests --repo spal or --from debian13', async () => {
    const inSpal = await install(['ffmpeg', '--dry-run', '--quiet']);
    expect(inSpal.code).toBe(1);
    expect(inSpal.stderr.trim().split('\n')).toEqual([
      "yumda: error: package 'ffmpeg' was not found in the al2023 repositories; SPAL has it (as ffmpeg-free 7.1.1-1.spal2023); " +
        '--repo spal enables SPAL (SPAL packages have no AWS support and no AWS CVE tracking), or --from debian13 takes it from debian13, in a layer with its own C library',
    ]);
    const nowhere = await install(['no-such-tool', '--dry-run', '--quiet']);
    expect(nowhere.stderr.trim().split('\n')).toEqual([
      // metadata from the cache (the build above read it) adds that --refresh fetches it anew
      expect.stringMatching(
        /^yumda: error: package 'no-such-tool' was not found in the al2023 repositories, nor in SPAL(; the repository metadata came from the cache \(fetched \d+ (s|min) ago\); --refresh fetches it anew, in case the package was added since)?; --from debian13 takes it from debian13, in a layer with its own C library$/,
      ),
    ]);
  });

  it('says in one line when the core repositories have no spal-release to enable SPAL with', async () => {
    const r = await runYumda([
      'install',
      'spaltool',
      '--target',
      'al2023',
      '--build-image',
      standin.buildImage,
      '--no-default-repos',
      '--repo',
      spal.url,
      '--repo',
      'spal',
      '--runtime-manifest',
      standin.runtimeManifest,
      '--dry-run',
      '--quiet',
    ]);
    expect(r.code).toBe(1);
    expect(r.stderr.trim().split('\n')).toEqual([
      `yumda: error: cannot enable a repository: spal-release, which configures repository amazonlinux-spal, is not in the repositories; its release package comes from the other repositories (${spal.url}): keep the target's own, or --repo a mirror of them that has it`,
    ]);
  });

  it('refuses a repository name the target does not have, in one line', async () => {
    const r = await install(['spaltool', '--repo', 'epel', '--dry-run']);
    expect(r.code).toBe(1);
    expect(r.stderr.trim().split('\n')).toEqual(["yumda: error: --repo 'epel': al2023 has no repository of that name; its optional repositories: spal; or give a repository URL"]);
  });

  it("a manifest's repos enable SPAL by name too", async () => {
    const project = path.join(work, 'project');
    mkdirSync(project, { recursive: true });
    writeFileSync(
      path.join(project, 'yumda.json'),
      JSON.stringify({
        layers: [
          {
            name: 'spaltool',
            target: 'al2023',
            packages: ['spaltool'],
            repos: [standin.server.url, 'spal'],
            defaultRepos: false,
            buildImage: standin.buildImage,
            runtimeManifest: standin.runtimeManifest,
          },
        ],
      }),
    );
    const r = await runYumda(['update', '--json'], { cwd: project });
    expect(r.stderr).not.toMatch(/error/);
    expect(r.code).toBe(0);
    const lock = JSON.parse(readFileSync(path.join(project, 'yumda.lock'), 'utf8')) as {
      layers: Array<{ repositories: Array<{ url: string }>; packages: Array<{ name: string; version: string }> }>;
    };
    expect(lock.layers[0]!.packages.map((p) => `${p.name} ${p.version}`)).toEqual(['spaltool 2.1-1.spal2023']);
    expect(lock.layers[0]!.repositories.map((x) => x.url)).toEqual([standin.server.url, 'amazonlinux-spal (configured by spal-release)']);
  });
});
