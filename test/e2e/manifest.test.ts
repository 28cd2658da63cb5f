import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { ensureBaseImages } from '../helpers/base-images.js';
import type { CycloneDxBom } from '../../src/sbom/cyclonedx.js';
import type { LayerManifest } from '../../src/format/layer-manifest.js';
import type { LockFile } from '../../src/project/lock.js';
import { tempDir } from '../helpers/tmp.js';
import { runYumda } from '../helpers/cli.js';
import { checkedSbom, expectFrozenRebuild, type BuildJson } from '../helpers/project.js';
import { readZip, type ZipEntryInfo } from '../helpers/zip.js';

/**
 * Issue 6's acceptance for builds from a manifest: two layers (different packages and
 * architectures; the second target, Amazon Linux, comes with issue 3) build; `--frozen`
 * reproduces the zips byte for byte; an edited manifest or a lock that no longer resolves makes
 * `--frozen` fail saying what differs; each SBOM lists exactly the packages of its layer manifest.
 */
const MANIFEST = `layers:
  - name: poppler
    target: debian12
    packages: [poppler-utils]
  - name: tools
    target: debian12
    arch: arm64
    packages:
      - name: jq
        upstream: ">=1.6 <2"
`;

const entry = (entries: ZipEntryInfo[], name: string) => entries.find((e) => e.name === name);

describe('yumda build from a manifest, yumda.lock and --frozen', () => {
  const project = tempDir('yumda-project-');
  const saved = tempDir('yumda-first-');
  let first: BuildJson;

  beforeAll(async () => {
    // the manifest's tools layer is arm64: its scripts run in the arm64 build image
    ensureBaseImages('arm64');
    writeFileSync(path.join(project, 'yumda.yaml'), MANIFEST);
    const r = await runYumda(['build', '--json'], { cwd: project });
    expect(r.stderr).not.toMatch(/error/);
    expect(r.code).toBe(0);
    first = JSON.parse(r.stdout) as BuildJson;
    cpSync(path.join(project, 'dist'), saved, { recursive: true });
    cpSync(path.join(project, 'yumda.lock'), path.join(saved, 'yumda.lock'));
  });

  it('builds both layers and writes the lock: exact versions, architectures, checksums, build image', async () => {
    expect(first.lockWritten).toBe(true);
    expect(first.layers.map((l) => `${l.name}/${l.arch} ${path.relative(project, l.zip)}`)).toEqual(['poppler/x86_64 dist/poppler-x86_64.zip', 'tools/arm64 dist/tools-arm64.zip']);
    const lock = JSON.parse(readFileSync(path.join(project, 'yumda.lock'), 'utf8')) as LockFile;
    expect(lock.layers.map((l) => `${l.name}/${l.arch}/${l.target}`)).toEqual(['poppler/x86_64/debian12', 'tools/arm64/debian12']);
    const tools = lock.layers[1]!;
    expect(tools.requested).toEqual([{ name: 'jq', upstream: '>=1.6 <2' }]);
    expect(tools.packages.map((p) => p.name)).toEqual(['jq', 'libjq1', 'libonig5']);
    for (const p of [...lock.layers[0]!.packages, ...tools.packages]) expect(p.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(tools.packages.every((p) => p.arch === 'arm64')).toBe(true);
    expect(tools.buildImage.ref).toMatch(/^yumda\/build-debian12:[0-9a-f]{12}$/);
    expect(tools.buildImage.id).toMatch(/^sha256:[0-9a-f]{64}$/);

    // the arm64 layer holds aarch64 code, resolved and staged from the amd64 build container
    const entries = await readZip(path.join(project, 'dist/tools-arm64.zip'));
    const jq = entry(entries, 'bin/jq')!.data!;
    expect(jq.subarray(0, 4).toString('latin1')).toBe('\x7fELF');
    expect(jq.readUInt16LE(18)).toBe(183); // EM_AARCH64
    const manifest = JSON.parse(entry(entries, '.yumda/manifest.json')!.data!.toString()) as LayerManifest;
    // the range resolved to an exact version, recorded as such
    expect(manifest.requested).toEqual([`jq=${tools.packages[0]!.version}`]);
  });

  it('writes an SBOM beside each zip and inside it, listing exactly the packages of the layer manifest', async () => {
    for (const l of first.layers) {
      const { bom, manifest } = await checkedSbom(l);
      expect(bom.components).toHaveLength(l.packages);
      for (const c of bom.components) {
        const m = manifest.packages.find((p) => p.name === c.name)!;
        const props = Object.fromEntries(c.properties.map((p) => [p.name, p.value]));
        expect(props['yumda:package:arch']).toBe(m.arch);
        expect(props['yumda:package:sourcePackage']).toBe(m.sourcePackage ?? m.name);
        expect(c.purl).toContain(`arch=${m.arch}`);
      }
    }
    const poppler = JSON.parse(readFileSync(first.layers[0]!.sbom, 'utf8')) as CycloneDxBom;
    const lic = (name: string) => poppler.components.find((c) => c.name === name)!.licenses;
    // read from Debian's machine-readable copyright files before relocation dropped /usr/share/doc
    expect(lic('poppler-utils')).toEqual([{ expression: expect.stringMatching(/GPL-2\.0-only/) }]);
    expect(lic('fonts-dejavu-core')).toEqual([{ expression: 'Bitstream-Vera' }]);
    const withLicense = poppler.components.filter((c) => c.licenses?.length).length;
    expect(withLicense).toBeGreaterThan(poppler.components.length / 2);
  });

  it('--frozen reproduces byte-identical zips and SBOMs, and leaves the lock alone', async () => {
    await expectFrozenRebuild(project, saved, first, ['poppler-x86_64.zip', 'poppler-x86_64.cdx.json', 'tools-arm64.zip', 'tools-arm64.cdx.json']);
  });

  it('--frozen fails, saying what differs, when the manifest was edited', async () => {
    writeFileSync(path.join(project, 'yumda.yaml'), MANIFEST.replace('    packages:\n      - name: jq', '    packages:\n      - file\n      - name: jq'));
    const r = await runYumda(['build', '--frozen'], { cwd: project });
    expect(r.code).toBe(1);
    expect(r.stderr.trim().split('\n')).toEqual([
      "yumda: error: yumda.lock does not match yumda.yaml: layer 'tools' (debian12 arm64): package 'file' added to the manifest; run `yumda update` to refresh the lock, then commit it",
    ]);
    expect(readFileSync(path.join(project, 'dist/tools-arm64.zip')).equals(readFileSync(path.join(saved, 'tools-arm64.zip')))).toBe(true);
  });

  it('yumda update takes the edit into the lock, and --frozen builds again', async () => {
    // --layer: a plain `update` moves every layer to the newest versions, and Debian's archive
    // can publish one between two steps of this file (it did: libtiff6 +deb12u5 during a CI run)
    const u = await runYumda(['update', '--layer', 'tools'], { cwd: project });
    expect(u.stderr).not.toMatch(/error/);
    expect(u.stdout).not.toMatch(/^poppler/m);
    expect(u.stdout).toMatch(/^tools \(arm64\): .*\+ file \d/m);
    expect(u.stdout).toMatch(/^Wrote yumda\.lock$/m);
    const again = await runYumda(['update', '--layer', 'tools'], { cwd: project });
    expect(again.stdout).toBe('tools (arm64): unchanged\nyumda.lock is up to date\n');
    const lock = JSON.parse(readFileSync(path.join(project, 'yumda.lock'), 'utf8')) as LockFile;
    expect(lock.layers[1]!.requested).toEqual([{ name: 'file' }, { name: 'jq', upstream: '>=1.6 <2' }]);
    expect(lock.layers[0]).toEqual((JSON.parse(readFileSync(path.join(saved, 'yumda.lock'), 'utf8')) as LockFile).layers[0]);
    const r = await runYumda(['build', '--frozen', '--layer', 'tools', '--json'], { cwd: project });
    expect(r.stderr).not.toMatch(/error/);
    expect(r.code).toBe(0);
    const entries = await readZip(path.join(project, 'dist/tools-arm64.zip'));
    expect(entry(entries, 'bin/file')?.kind).toBe('file');
  });

  it('--frozen fails, naming the package, when the locked versions no longer resolve', async () => {
    const lockFile = path.join(project, 'yumda.lock');
    const lock = JSON.parse(readFileSync(lockFile, 'utf8')) as LockFile;
    const onig = lock.layers[1]!.packages.find((p) => p.name === 'libonig5')!;
    const real = onig.version;
    onig.version = '6.9.8-0+gone1';
    writeFileSync(lockFile, JSON.stringify(lock, null, 2));
    const r = await runYumda(['build', '--frozen', '--layer', 'tools', '--quiet'], { cwd: project });
    expect(r.code).toBe(1);
    expect(r.stderr.trim().split('\n')).toEqual([
      `yumda: error: layer 'tools' (debian12 arm64) resolves differently from yumda.lock: package libonig5 6.9.8-0+gone1 in the lock, ${real} now; run \`yumda update\` to take the new versions into the lock, or restore the package cache that holds the locked ones`,
    ]);
  });

  it('yumda install writes the SBOM beside its zip too', async () => {
    const out = path.join(project, 'jq.zip');
    const r = await runYumda(['install', 'jq', '--target', 'debian12', '--arch', 'arm64', '--out', out, '--quiet'], { cwd: project });
    expect(r.code).toBe(0);
    const inside = entry(await readZip(out), '.yumda/sbom.cdx.json')!.data!;
    expect(readFileSync(path.join(project, 'jq.cdx.json')).equals(inside)).toBe(true);
    expect((JSON.parse(inside.toString()) as CycloneDxBom).components.map((c) => c.name).sort()).toEqual(['jq', 'libjq1', 'libonig5']);
  });
});
