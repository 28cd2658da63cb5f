import { cpSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LayerManifest } from '../../src/format/layer-manifest.js';
import type { LockFile, LockedLayer } from '../../src/project/lock.js';
import { runtimeFile } from '../../src/registry/load.js';
import type { CycloneDxBom } from '../../src/sbom/cyclonedx.js';
import { sha256 } from '../../src/util/hash.js';
import { tempDir } from '../helpers/tmp.js';
import { runYumda } from '../helpers/cli.js';
import { libgreetRpm } from '../helpers/fixture-repo.js';
import { checkedSbom, expectFrozenRebuild, packageKey, type BuildJson } from '../helpers/project.js';
import { indexRepo, makeRepo } from '../helpers/rpmrepo.js';
import { rpmStandin, type RpmStandin } from '../helpers/rpm-standin.js';
import { readZip, type ZipEntryInfo } from '../helpers/zip.js';

/**
 * Issue 6's first acceptance point across targets: one manifest with a Debian 12 layer (jq, from
 * Debian's repositories) and an Amazon Linux 2023 layer (hello, resolved by dnf from the RPM
 * repository the test makes, in the stand-in build image, against the stand-in runtime's
 * manifest). Both build and are locked; `--frozen` rebuilds them byte for byte; an edited manifest
 * or runtime manifest makes `--frozen` fail naming the layer and the change; and when the RPM
 * repository publishes a newer libgreet, the lock's pins keep the build on the locked one until
 * `yumda update` moves the lock.
 */

const manifestText = (s: RpmStandin, extraPackage = '') => `layers:
  - name: jq
    target: debian12
    packages: [jq]
  - name: hello
    target: al2023
    buildImage: ${s.buildImage}
    defaultRepos: false
    repos: ["${s.server.url}"]
    runtimeManifest: runtime/standin.json
    packages:
      - hello${extraPackage}
      - name: hello-data
        upstream: ">=2"
`;

const entry = (entries: ZipEntryInfo[], name: string) => entries.find((e) => e.name === name);
const fileSha = (f: string) => sha256(readFileSync(f));

describe('yumda build: a manifest with a debian12 layer and an al2023 layer', () => {
  const work = tempDir('yumda-targets-');
  const project = path.join(work, 'project');
  const saved = path.join(work, 'first');
  let standin: RpmStandin;
  let first: BuildJson;
  let lock: LockFile;
  const layer = (name: string): LockedLayer => lock.layers.find((l) => l.name === name)!;
  const build = (args: string[]) => runYumda(['build', ...args], { cwd: project });
  const writeManifest = (extra = '') => writeFileSync(path.join(project, 'yumda.yaml'), manifestText(standin, extra));

  beforeAll(async () => {
    standin = await rpmStandin(path.join(work, 'standin'));
    mkdirSync(path.join(project, 'runtime'), { recursive: true });
    cpSync(standin.runtimeManifest, path.join(project, 'runtime/standin.json'));
    writeManifest();
    const r = await build(['--json']);
    expect(r.stderr).not.toMatch(/error/);
    expect(r.code).toBe(0);
    first = JSON.parse(r.stdout) as BuildJson;
    lock = JSON.parse(readFileSync(path.join(project, 'yumda.lock'), 'utf8')) as LockFile;
    cpSync(path.join(project, 'dist'), saved, { recursive: true });
    cpSync(path.join(project, 'yumda.lock'), path.join(saved, 'yumda.lock'));
  });

  afterAll(async () => {
    await standin?.server.close();
  });

  it('builds both layers and locks each: versions, architectures, checksums, repositories, runtime, build image', () => {
    expect(first.lockWritten).toBe(true);
    expect(first.layers.map((l) => `${l.name} ${l.target}/${l.arch} ${path.relative(project, l.zip)}`)).toEqual([
      'jq debian12/x86_64 dist/jq-x86_64.zip',
      'hello al2023/x86_64 dist/hello-x86_64.zip',
    ]);
    expect(lock.layers.map((l) => `${l.name}/${l.arch}/${l.target}`)).toEqual(['hello/x86_64/al2023', 'jq/x86_64/debian12']);

    const hello = layer('hello');
    expect(hello.requested).toEqual([{ name: 'hello' }, { name: 'hello-data', upstream: '>=2' }]);
    // the range took upstream 2.0 over the epoch-1 0.9 that rpm calls newer; the checksums are
    // those of the very files the test built
    const rpm = (key: string) => fileSha(standin.repo.rpms[key]!);
    expect(hello.packages).toEqual([
      { name: 'hello', version: '1.0-1', arch: 'x86_64', sourcePackage: 'hello', sha256: rpm('hello-1.0.x86_64') },
      { name: 'hello-data', version: '2.0-1', arch: 'noarch', sourcePackage: 'hello-data', sha256: rpm('hello-data-2.0.noarch') },
      { name: 'libgreet', version: '1.1-1', arch: 'x86_64', sourcePackage: 'libgreet', sha256: rpm('libgreet-1.1.x86_64') },
    ]);
    // only the layer's own repository (defaultRepos: false), its own runtime manifest by digest
    expect(hello.repositories).toEqual([{ url: standin.server.url }]);
    expect(hello.runtime).toEqual({ id: 'provided.standin', manifest: 'runtime/standin.json', sha256: fileSha(path.join(project, 'runtime/standin.json')) });
    expect(hello.buildImage.ref).toBe(standin.buildImage);
    expect(hello.buildImage.id).toMatch(/^sha256:[0-9a-f]{64}$/);

    const jq = layer('jq');
    expect(jq.packages.map((p) => `${p.name} ${p.arch}`)).toEqual(['jq amd64', 'libjq1 amd64', 'libonig5 amd64']);
    for (const p of jq.packages) {
      expect(p.version).toMatch(/^\d[\w.+~:-]*$/);
      expect(p.sha256).toMatch(/^[0-9a-f]{64}$/);
    }
    expect(jq.repositories.map((r) => r.url)).toContain('http://deb.debian.org/debian');
    expect(jq.runtime).toEqual({ id: 'debian12', sha256: fileSha(runtimeFile('debian12')) });
    expect(jq.buildImage.ref).toMatch(/^yumda\/build-debian12:[0-9a-f]{12}$/);
  });

  it("each zip holds its target's packages, relocated, with an SBOM of exactly its packages", async () => {
    const hello = await readZip(path.join(project, 'dist/hello-x86_64.zip'));
    expect(entry(hello, 'share/hello/greeting.txt')?.data?.toString()).toBe('greetings from hello-data 2.0 (epoch 0)\n');
    expect(entry(hello, 'lib/libgreet.so.1')?.data?.includes('hello from libgreet 1.1')).toBe(true);
    expect(entry(hello, 'bin/fixture-hello')?.kind).toBe('file');
    const helloManifest = JSON.parse(entry(hello, '.yumda/manifest.json')!.data!.toString()) as LayerManifest;
    expect(helloManifest).toMatchObject({ target: 'al2023', runtime: 'provided.standin', requested: ['hello', 'hello-data=2.0-1'] });

    const jq = await readZip(path.join(project, 'dist/jq-x86_64.zip'));
    const elf = entry(jq, 'bin/jq')!.data!;
    expect(elf.subarray(0, 4).toString('latin1')).toBe('\x7fELF');
    expect(elf.readUInt16LE(18)).toBe(62); // EM_X86_64

    for (const [l, purl] of [
      [first.layers[0]!, /^pkg:deb\/debian\//],
      [first.layers[1]!, /^pkg:rpm\//],
    ] as const) {
      const { bom } = await checkedSbom(l);
      expect(bom.components.map(packageKey).sort()).toEqual(layer(l.name).packages.map(packageKey).sort());
      for (const c of bom.components) expect(c.purl).toMatch(purl);
    }
  });

  it('--frozen reproduces byte-identical zips and SBOMs of both layers, and leaves the lock alone', async () => {
    await expectFrozenRebuild(project, saved, first, ['jq-x86_64.zip', 'jq-x86_64.cdx.json', 'hello-x86_64.zip', 'hello-x86_64.cdx.json']);
  });

  it('--frozen fails in one line naming the layer and the change when a package is added to the manifest', async () => {
    writeManifest('\n      - archtool');
    try {
      const r = await build(['--frozen']);
      expect(r.code).toBe(1);
      expect(r.stderr.trim().split('\n')).toEqual([
        "yumda: error: yumda.lock does not match yumda.yaml: layer 'hello' (al2023 x86_64): package 'archtool' added to the manifest; run `yumda update` to refresh the lock, then commit it",
      ]);
      expect(readFileSync(path.join(project, 'dist/hello-x86_64.zip')).equals(readFileSync(path.join(saved, 'hello-x86_64.zip')))).toBe(true);
    } finally {
      writeManifest();
    }
  });

  it("--frozen fails in one line when the layer's runtime manifest changed", async () => {
    const file = path.join(project, 'runtime/standin.json');
    const original = readFileSync(file);
    // the runtime no longer has libold: a layer needing it would now ship it
    const runtime = JSON.parse(original.toString()) as { packages: Array<{ name: string }> };
    runtime.packages = runtime.packages.filter((p) => p.name !== 'libold');
    writeFileSync(file, JSON.stringify(runtime, null, 2));
    try {
      const r = await build(['--frozen']);
      expect(r.code).toBe(1);
      expect(r.stderr.trim().split('\n')).toEqual([
        `yumda: error: yumda.lock does not match yumda.yaml: layer 'hello' (al2023 x86_64): runtime manifest runtime/standin.json changed (sha256 ${fileSha(file).slice(0, 12)}…, the lock has ${layer('hello').runtime!.sha256.slice(0, 12)}…); run \`yumda update\` to refresh the lock, then commit it`,
      ]);
    } finally {
      writeFileSync(file, original);
    }
  });

  describe('the rpm repository publishes libgreet 1.2', () => {
    let greet12: string;

    beforeAll(async () => {
      greet12 = await libgreetRpm(path.dirname(standin.repo.dir), '1.2');
      await makeRepo(standin.repo.dir, [greet12]);
    });

    it('--frozen --refresh reads the new metadata and still builds the locked libgreet 1.1, byte for byte', async () => {
      const r = await build(['--frozen', '--refresh', '--layer', 'hello', '--json']);
      expect(r.stderr).not.toMatch(/error/);
      expect(r.code).toBe(0);
      // dnf was given the lock's three versions, and found each
      expect(r.stderr).toMatch(/locked versions preferred for 3 packages/);
      expect(readFileSync(path.join(project, 'dist/hello-x86_64.zip')).equals(readFileSync(path.join(saved, 'hello-x86_64.zip')))).toBe(true);
      expect(readFileSync(path.join(project, 'yumda.lock')).equals(readFileSync(path.join(saved, 'yumda.lock')))).toBe(true);
    });

    it('yumda update moves the lock to libgreet 1.2, and --frozen then builds it', async () => {
      const u = await runYumda(['update'], { cwd: project });
      expect(u.stderr).not.toMatch(/error/);
      expect(u.code).toBe(0);
      expect(u.stdout).toMatch(/^hello \(x86_64\): ~ libgreet 1\.1-1 → 1\.2-1$/m);
      expect(u.stdout).toMatch(/^jq \(x86_64\): unchanged$/m);
      lock = JSON.parse(readFileSync(path.join(project, 'yumda.lock'), 'utf8')) as LockFile;
      expect(layer('hello').packages.find((p) => p.name === 'libgreet')).toEqual({
        name: 'libgreet',
        version: '1.2-1',
        arch: 'x86_64',
        sourcePackage: 'libgreet',
        sha256: fileSha(greet12),
      });
      expect(layer('hello').packages.filter((p) => p.name !== 'libgreet')).toEqual(
        (JSON.parse(readFileSync(path.join(saved, 'yumda.lock'), 'utf8')) as LockFile).layers[0]!.packages.filter((p) => p.name !== 'libgreet'),
      );

      const r = await build(['--frozen', '--layer', 'hello', '--json']);
      expect(r.stderr).not.toMatch(/error/);
      expect(r.code).toBe(0);
      const entries = await readZip(path.join(project, 'dist/hello-x86_64.zip'));
      expect(entry(entries, 'lib/libgreet.so.1')?.data?.includes('hello from libgreet 1.2')).toBe(true);
      const bom = JSON.parse(readFileSync(path.join(project, 'dist/hello-x86_64.cdx.json'), 'utf8')) as CycloneDxBom;
      expect(bom.components.find((c) => c.name === 'libgreet')?.version).toBe('1.2-1');
    });

    it('--frozen fails, naming the package, once the locked version is withdrawn (the pin is not applied)', async () => {
      rmSync(path.join(standin.repo.dir, 'Packages', path.basename(greet12)));
      await indexRepo(standin.repo.dir);
      const before = readFileSync(path.join(project, 'dist/hello-x86_64.zip'));
      const r = await build(['--frozen', '--refresh', '--layer', 'hello', '--quiet']);
      expect(r.code).toBe(1);
      expect(r.stderr.trim().split('\n')).toEqual([
        "yumda: error: layer 'hello' (al2023 x86_64) resolves differently from yumda.lock: package libgreet 1.2-1 in the lock, 1.1-1 now; run `yumda update` to take the new versions into the lock, or restore the package cache that holds the locked ones",
      ]);
      expect(readFileSync(path.join(project, 'dist/hello-x86_64.zip')).equals(before)).toBe(true);
    });
  });
});
