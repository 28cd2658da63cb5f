import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { projectRoot } from '../../src/util/paths.js';
import { tempDir } from '../helpers/tmp.js';
import { run, runYumda } from '../helpers/cli.js';

/**
 * Issue 11: every way of writing a layer passes one gate. A runtime manifest that claims the
 * package libjq1 but not its library makes jq's closure incomplete: install, install --out-dir,
 * build, image (engine) and image --oci/--docker-archive must all refuse it with the same line and
 * write nothing, and all let it through with --allow-missing (the manifest's allowMissing).
 */
const REFUSAL = 'yumda: error: 1 shared library needed by the layer is missing (libjq.so.1); nothing written; add libjq1 to the packages, or pass --allow-missing';

describe('one write gate for every output', () => {
  const work = tempDir('yumda-gate-');
  const cache = tempDir('yumda-gate-cache-');
  const rt = path.join(work, 'rt.json');
  const tag = `yumda-test/gate-${process.pid}:x`;
  const common = ['--target', 'debian12', '--runtime-manifest', rt, '--cache-dir', cache];

  beforeAll(async () => {
    // the runtime must claim the exact version jq depends on: ask the repositories
    const plan = await runYumda(['install', 'jq', '--target', 'debian12', '--cache-dir', cache, '--dry-run', '--json']);
    expect(plan.code, plan.stderr).toBe(0);
    const libjq = (JSON.parse(plan.stdout) as { packages: Array<{ name: string; version: string }> }).packages.find((p) => p.name === 'libjq1')!;
    const runtime = JSON.parse(readFileSync(path.join(projectRoot, 'registry/runtimes/debian12.json'), 'utf8')) as { id: string; packages: object[]; $schema?: string };
    runtime.id = 'debian12-claims-libjq1';
    delete runtime.$schema;
    runtime.packages.push({ name: 'libjq1', version: libjq.version, arch: 'amd64' });
    writeFileSync(rt, JSON.stringify(runtime));
  });

  const errorLines = (stderr: string) => stderr.split('\n').filter((l) => l.startsWith('yumda:'));
  const gated = async (args: string[], cwd = work) => {
    const r = await runYumda(args, { cwd });
    expect(r.code, r.stderr).toBe(1);
    expect(errorLines(r.stderr)).toEqual([REFUSAL]);
    expect(r.stderr).toMatch(
      /warning: (layer 'jq' \(debian12 x86_64\): )?\/opt\/bin\/jq needs libjq\.so\.1, which is neither in the layer nor in the debian12-claims-libjq1 runtime/,
    );
    return r;
  };

  it('install (zip and directory) refuses it and writes nothing', async () => {
    await gated(['install', 'jq', ...common, '--out', path.join(work, 'jq.zip')]);
    await gated(['install', 'jq', ...common, '--out-dir', path.join(work, 'jq-dir')]);
    expect(readdirSync(work).sort()).toEqual(['rt.json']);
  });

  it('image (into the engine, and as tarballs) refuses it and writes nothing', async () => {
    await gated(['image', 'jq', ...common, '--tag', tag]);
    expect((await run('docker', ['image', 'inspect', tag])).code).not.toBe(0);
    await gated(['image', 'jq', ...common, '--oci', path.join(work, 'jq-oci.tar'), '--docker-archive', path.join(work, 'jq-docker.tar')]);
    expect(readdirSync(work).sort()).toEqual(['rt.json']);
  });

  it('build from a manifest refuses it, writes no zip and no lock', async () => {
    const project = tempDir('yumda-gate-project-');
    writeFileSync(path.join(project, 'yumda.yaml'), `layers:\n  - name: jq\n    target: debian12\n    runtimeManifest: ${rt}\n    packages: [jq]\n`);
    await gated(['build', '--cache-dir', cache], project);
    expect(readdirSync(project).sort()).toEqual(['yumda.yaml']);
  });

  it('--allow-missing (allowMissing in a manifest) writes it everywhere, still warning', async () => {
    const zip = path.join(work, 'ok.zip');
    const r = await runYumda(['install', 'jq', ...common, '--out', zip, '--allow-missing']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/warning: \/opt\/bin\/jq needs libjq\.so\.1/);
    expect(existsSync(zip)).toBe(true);
    // the SBOM written beside the zip is named (issue 22)
    expect(r.stdout).toContain(`\n  SBOM (CycloneDX 1.5) ${path.join(work, 'ok.cdx.json')}\n`);
    expect(existsSync(path.join(work, 'ok.cdx.json'))).toBe(true);
    const oci = path.join(work, 'ok-oci.tar');
    expect((await runYumda(['image', 'jq', ...common, '--oci', oci, '--allow-missing'])).code).toBe(0);
    expect(existsSync(oci)).toBe(true);
    // a zip made with --allow-missing, turned into an image: the same gate reads its closure again
    expect(errorLines((await runYumda(['image', '--layer', zip, '--runtime-manifest', rt, '--oci', path.join(work, 'again.tar')])).stderr)).toEqual([
      'yumda: error: 1 shared library needed by the layer is missing (libjq.so.1); nothing written; pass --allow-missing to write the layer anyway',
    ]);
    expect(errorLines((await runYumda(['image', '--layer', zip, '--oci', path.join(work, 'again.tar')])).stderr)).toEqual([
      "yumda: error: unknown runtime 'debian12-claims-libjq1'; known runtimes: debian12, debian13, provided.al2, provided.al2023; or give its manifest with --runtime-manifest FILE",
    ]);
    expect(existsSync(path.join(work, 'again.tar'))).toBe(false);
    const project = tempDir('yumda-gate-project-');
    writeFileSync(path.join(project, 'yumda.yaml'), `layers:\n  - name: jq\n    target: debian12\n    runtimeManifest: ${rt}\n    allowMissing: true\n    packages: [jq]\n`);
    const b = await runYumda(['build', '--cache-dir', cache], { cwd: project });
    expect(b.code, b.stderr).toBe(0);
    expect(existsSync(path.join(project, 'dist', 'jq-x86_64.zip'))).toBe(true);
  });
});
