import { chmodSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Runtime } from '../../src/registry/types.js';
import { checkClosure } from '../../src/check/closure.js';
import { treeFromDir } from '../helpers/layer.js';
import type { FixtureRepo } from '../helpers/fixture-repo.js';
import { imageFrom } from '../helpers/images.js';
import { runLambdaLike } from '../helpers/lambda.js';
import { run, runYumda } from '../helpers/cli.js';
import { tempDir } from '../helpers/tmp.js';
import { rpmStandin, type RpmStandin } from '../helpers/rpm-standin.js';
import { readZip, type ZipEntryInfo } from '../helpers/zip.js';

/**
 * Issue 3 with no Amazon Linux in reach: the al2023 target (dnf) builds from an RPM repository this
 * test makes (rpmbuild, createrepo_c, served on loopback) in a stand-in build image (Debian with
 * Debian's dnf and rpm), against a runtime manifest that says what the stand-in runtime has, and
 * the layer runs Lambda-like in that runtime.
 */
describe('al2023 target with a stand-in build image and repository', () => {
  const work = tempDir('yumda-al-');
  let repo: FixtureRepo;
  let server: RpmStandin['server'];
  let buildImage: string;
  let runtimeImage: string;
  let manifestFile: string;
  let runtime: Runtime;
  const recipes = path.join(work, 'recipes');

  /** yumda install with the stand-in image, only the test's repository, and the test's runtime. */
  const install = (args: string[]) =>
    runYumda([
      'install',
      ...args,
      '--target',
      'al2023',
      '--build-image',
      buildImage,
      '--no-default-repos',
      '--repo',
      server.url,
      '--runtime-manifest',
      manifestFile,
      '--recipes',
      recipes,
    ]);

  beforeAll(async () => {
    const standin = await rpmStandin(work);
    ({ repo, server, buildImage, runtimeImage, runtime } = standin);
    manifestFile = standin.runtimeManifest;

    // no recipe for hello: its compiled-in data and config paths are rewritten by relocation
    mkdirSync(recipes, { recursive: true });
  });

  afterAll(async () => {
    await server?.close();
  });

  describe('hello: library from another package, data, config, script, weak and runtime dependencies', () => {
    const zip = () => path.join(work, 'hello.zip');
    let plan: {
      target: string;
      arch: string;
      buildImage: string;
      repositories: Array<{ url: string }>;
      packages: Array<{ name: string; version: string; arch: string; downloadSize: number; installedSize: number; requiredBy: string[]; requested: boolean; layerBytes: number }>;
      fromRuntime: string[];
      skew: unknown[];
    };
    let entries: ZipEntryInfo[];
    let layerDir: string;

    beforeAll(async () => {
      const r = await install(['hello', '--out', zip(), '--json']);
      expect(r.stderr).not.toMatch(/error/);
      expect(r.code).toBe(0);
      plan = JSON.parse(r.stdout);
      entries = await readZip(zip());
      layerDir = path.join(work, 'hello-opt');
      expect((await run('unzip', ['-q', zip(), '-d', layerDir])).code).toBe(0);
      chmodSync(work, 0o755);
      chmodSync(layerDir, 0o755);
    });

    it('reports the plan with versions and sizes: the newest libgreet, the epoch-1 hello-data, no weak or runtime dependency', () => {
      expect(plan.target).toBe('al2023');
      expect(plan.buildImage).toBe(buildImage);
      expect(plan.repositories.map((x) => x.url)).toEqual([server.url]);
      const byName = Object.fromEntries(plan.packages.map((p) => [p.name, p]));
      expect(Object.keys(byName).sort()).toEqual(['hello', 'hello-data', 'libgreet']);
      expect(byName.hello).toMatchObject({ version: '1.0-1', arch: 'x86_64', requested: true, requiredBy: ['hello'] });
      // 1.1-1 beats 1.0-1
      expect(byName.libgreet).toMatchObject({ version: '1.1-1', arch: 'x86_64', requested: false, requiredBy: ['hello'] });
      // epoch 1 beats the higher version 2.0 of epoch 0; a noarch package
      expect(byName['hello-data']).toMatchObject({ version: '1:0.9-1', arch: 'noarch', requiredBy: ['hello'] });
      for (const p of plan.packages) {
        expect(p.downloadSize).toBeGreaterThan(500);
        expect(p.installedSize).toBeGreaterThan(10);
        expect(p.layerBytes).toBeGreaterThan(0);
      }
      expect(plan.packages.find((p) => p.name === 'hello-extras')).toBeUndefined();
      expect(plan.fromRuntime).toEqual(['base', 'coreutils-single', 'glibc']);
      expect(plan.skew).toEqual([]);
    });

    it("ships neither the runtime's packages nor the weak dependency", () => {
      const names = entries.map((e) => e.name);
      expect(names).toEqual(expect.arrayContaining(['bin/fixture-hello', 'bin/hello-script', 'lib/libgreet.so.1', 'share/hello/greeting.txt', 'etc/hello.conf']));
      expect(names.filter((n) => /libbase|libc\.so|hello-extras|bin\/env$/.test(n))).toEqual([]);
      const manifest = JSON.parse(readFileSync(path.join(layerDir, '.yumda/manifest.json'), 'utf8')) as { packages: Array<{ name: string; version: string }> };
      expect(manifest.packages.map((p) => `${p.name} ${p.version}`)).toEqual(['hello 1.0-1', 'hello-data 1:0.9-1', 'libgreet 1.1-1']);
    });

    it('resolves every ELF dependency inside the layer or the runtime', () => {
      const report = checkClosure(treeFromDir(layerDir), runtime.libraries);
      expect(report.checked).toBeGreaterThanOrEqual(2);
      expect(report.missing).toEqual([]);
    });

    it("runs Lambda-like: finds its library, data file and config at their /opt places, and the runtime's base", async () => {
      const r = await runLambdaLike(runtimeImage, layerDir, 'fixture-hello && echo ===SCRIPT=== && hello-script');
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      const [program, script] = r.stdout.split('===SCRIPT===\n');
      expect(program!.trim().split('\n')).toEqual([
        // found through Lambda's LD_LIBRARY_PATH in /opt/lib, the newest version
        'library: /opt/lib/libgreet.so.1 (hello from libgreet 1.1)',
        // not shipped: the runtime's own copy (/lib64 comes first on LD_LIBRARY_PATH; it links to /usr/lib64)
        'base: /lib64/libbase.so.1 (base 1.0)',
        // the compiled-in /usr/share/hello/greeting.txt, rewritten in the binary to /opt/share/...
        'data: /opt/share/hello/greeting.txt (compiled-in path): greetings from hello-data 1:0.9',
        // the compiled-in /etc/hello.conf cannot grow to /opt/etc/hello.conf: it became
        // /opt/hello.conf, a link to etc/hello.conf; the path inside the file was rewritten too
        'config: /opt/hello.conf (compiled-in path): # hello configuration greeting_file=/opt/share/hello/greeting.txt',
      ]);
      // #!/usr/bin/env sh: env and sh from the runtime (found through Lambda's PATH, whose
      // "/usr/bin/" gives the double slash), the script itself from /opt/bin
      expect(script).toMatch(/^script: \/opt\/bin\/hello-script runs with \/usr\/bin\/\/sh\nlibrary: \/opt\/lib\/libgreet.so.1 \(hello from libgreet 1.1\)\n/);
    });
  });

  it("ships a newer library than the runtime's, and the program finds it first through its RPATH", async () => {
    // base 1.1 adds BASE_1.1, which newtool needs; the runtime has base 1.0 in /lib64, which
    // Lambda's LD_LIBRARY_PATH searches before /opt/lib: only the program's DT_RPATH makes it work
    const out = path.join(work, 'newtool.zip');
    const r = await install(['newtool', '--out', out, '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/warning: base: the runtime has 1\.0-1, the packages need 1\.1-1; the layer ships 1\.1-1/);
    const plan = JSON.parse(r.stdout) as { packages: Array<{ name: string; version: string }>; skew: unknown[] };
    expect(plan.packages.map((p) => `${p.name} ${p.version}`)).toEqual(['base 1.1-1', 'newtool 1.0-1']);
    const dir = path.join(work, 'newtool-opt');
    expect((await run('unzip', ['-q', out, '-d', dir])).code).toBe(0);
    chmodSync(dir, 0o755);
    const ran = await runLambdaLike(runtimeImage, dir, 'newtool');
    expect(ran.stderr).toBe('');
    expect(ran.stdout.trim()).toBe('new in base 1.1');
  });

  it('stops when the C library itself would have to be newer, naming both versions, and writes nothing', async () => {
    const out = path.join(work, 'needs-glibc.zip');
    const r = await install(['needs-newer-glibc', '--out', out, '--quiet']);
    expect(r.code).not.toBe(0);
    const lines = r.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^yumda: error: needs-newer-glibc needs glibc 2\.99-1 .*but the provided\.standin runtime has glibc \S+.*cannot be shipped in a layer/);
    expect(existsSync(out)).toBe(false);
  });

  it('ships the newer package when the runtime has no copy to shadow it, and the program finds it', async () => {
    const out = path.join(work, 'oldtool.zip');
    const r = await install(['oldtool', '--out', out, '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/warning: libold: the runtime has 1-1, the packages need 2-1; the layer ships 2-1/);
    const plan = JSON.parse(r.stdout) as { packages: Array<{ name: string; version: string }>; skew: unknown[] };
    expect(plan.packages.map((p) => `${p.name} ${p.version}`)).toEqual(['libold 2-1', 'oldtool 1.0-1']);
    expect(plan.skew).toEqual([{ name: 'libold', runtimeVersion: '1-1', neededVersion: '2-1' }]);
    const dir = path.join(work, 'oldtool-opt');
    expect((await run('unzip', ['-q', out, '-d', dir])).code).toBe(0);
    chmodSync(dir, 0o755);
    const run1 = await runLambdaLike(runtimeImage, dir, 'oldtool');
    expect(run1.stderr).toBe('');
    expect(run1.stdout.trim()).toBe('oldtool: libold 2 from /opt/lib/libold.so.2');
  });

  it('builds for arm64 from the aarch64 packages, without emulation', async () => {
    const out = path.join(work, 'archtool-arm64.zip');
    const r = await install(['archtool', '--arch', 'arm64', '--out', out, '--json']);
    expect(r.code, r.stderr).toBe(0);
    const plan = JSON.parse(r.stdout) as { arch: string; packages: Array<{ name: string; arch: string }> };
    expect(plan.arch).toBe('arm64');
    expect(plan.packages).toEqual([expect.objectContaining({ name: 'archtool', arch: 'aarch64' })]);
    const e = (await readZip(out)).find((x) => x.name === 'share/archtool/arch.txt');
    expect(e?.data?.toString()).toBe('built for aarch64\n');
    const x86 = await install(['archtool', '--dry-run', '--json']);
    expect((JSON.parse(x86.stdout) as { packages: Array<{ arch: string }> }).packages[0]!.arch).toBe('x86_64');
  });

  it('builds a pinned version (NAME=VERSION)', async () => {
    const r = await install(['hello-data=2.0', '--dry-run', '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect((JSON.parse(r.stdout) as { packages: Array<{ name: string; version: string }> }).packages).toEqual([expect.objectContaining({ name: 'hello-data', version: '2.0-1' })]);
  });

  it("searches the repository through dnf (the helper's search) and says why a package is in the plan", async () => {
    const where = ['--target', 'al2023', '--build-image', buildImage, '--no-default-repos', '--repo', server.url];
    const r = await runYumda(['search', 'hello', ...where, '--json']);
    expect(r.stderr).not.toMatch(/error/);
    const found = JSON.parse(r.stdout) as { total: number; packages: Array<{ name: string; version: string; arch: string; summary: string }> };
    // the exact name first, then the prefixes, shorter first; one entry per name, at its newest version (epoch included)
    expect(found.packages.map((p) => [p.name, p.version, p.arch])).toEqual([
      ['hello', '1.0-1', 'x86_64'],
      ['hello-data', '1:0.9-1', 'noarch'],
      ['hello-extras', '1.0-1', 'noarch'],
    ]);
    expect(found.packages[0]!.summary).toBe('yumda test fixture hello');
    // the machine's architecture only: archtool's aarch64 build is not listed
    const arch = JSON.parse((await runYumda(['search', 'archtool', ...where, '--json'])).stdout) as { packages: Array<{ arch: string }> };
    expect(arch.packages.map((p) => p.arch)).toEqual(['x86_64']);

    const why = await runYumda(['why', 'libgreet', 'hello', ...where, '--runtime-manifest', manifestFile]);
    expect(why.stderr).not.toMatch(/error/);
    expect(why.stdout).toBe('hello → libgreet\n');
  });

  it('refuses an unknown package in one line, writing nothing', async () => {
    const out = path.join(work, 'nope.zip');
    const r = await install(['no-such-package-xyz', '--out', out, '--quiet']);
    expect(r.code).not.toBe(0);
    // SPAL is looked in too: this stand-in's core repository has no spal-release to read it with
    // (test/e2e/spal.test.ts has one); metadata from the cache (an earlier build here read it)
    // adds that --refresh fetches it anew
    expect(r.stderr.trim().split('\n')).toEqual([
      expect.stringMatching(
        /^yumda: error: package 'no-such-package-xyz' was not found in the al2023 repositories(; the repository metadata came from the cache \(fetched \d+ (s|min) ago\); --refresh fetches it anew, in case the package was added since)?; SPAL could not be read to look \(spal-release, which configures repository amazonlinux-spal, is not in the repositories\); --repo spal may have it; --from debian13 takes it from debian13, in a layer with its own C library$/,
      ),
    ]);
    expect(existsSync(out)).toBe(false);
  });

  it('says which repository it cannot read, in one line', async () => {
    const out = path.join(work, 'norepo.zip');
    const r = await runYumda([
      'install',
      'hello',
      '--target',
      'al2023',
      '--build-image',
      buildImage,
      '--no-default-repos',
      '--repo',
      `${server.url}/no-such-repo`,
      '--runtime-manifest',
      manifestFile,
      '--out',
      out,
      '--quiet',
    ]);
    expect(r.code).not.toBe(0);
    const lines = r.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^yumda: error: cannot read the al2023 package repositories: .*; repositories: http:\/\/127\.0\.0\.1:\d+\/[0-9a-f]{12}\/no-such-repo;/);
    expect(existsSync(out)).toBe(false);
  });

  it("reads a runtime image's rpm database with `yumda runtime refresh`", async () => {
    // the stand-in build image has rpm; give its rpmdb the runtime's base and libold packages
    const img = await imageFrom(
      'yumda-test/rpmdb-standin',
      path.join(work, 'rpmdb-image'),
      `FROM ${buildImage}\nCOPY base.rpm libold.rpm /tmp/\nRUN rpm -i --nodeps --noscripts /tmp/base.rpm /tmp/libold.rpm && rm /tmp/*.rpm\n`,
      { 'base.rpm': readFileSync(repo.rpms['base-1.0.x86_64']!), 'libold.rpm': readFileSync(repo.rpms['libold-1.x86_64']!) },
    );
    const out = path.join(work, 'refreshed.json');
    const r = await runYumda(['runtime', 'refresh', img, '--runtime', 'provided.al2023', '--out', out, '--date', '2026-01-01']);
    expect(r.code, r.stderr).toBe(0);
    const m = JSON.parse(readFileSync(out, 'utf8')) as Runtime;
    expect(m.id).toBe('provided.al2023');
    expect(m.provenance).toMatchObject({ source: img, date: '2026-01-01' });
    expect(m.packages).toEqual([
      { name: 'base', version: '1.0-1', arch: 'x86_64', provides: ['base = 1.0-1', 'base(x86-64) = 1.0-1', 'libbase.so.1()(64bit)', 'libbase.so.1(BASE_1.0)(64bit)'] },
      { name: 'libold', version: '1-1', arch: 'x86_64', provides: ['libold = 1-1', 'libold(x86-64) = 1-1', 'libold.so.1()(64bit)'] },
    ]);
    expect(m.libraries).toEqual(expect.arrayContaining(['libbase.so.1', 'libold.so.1', 'libc.so.6']));
  });
});
