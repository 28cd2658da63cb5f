import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { fileCache, repoRoot, run } from '../helpers/cli.js';
import { installScriptWarnings, packCheckout } from '../helpers/npm-pack.js';
import { tempDir } from '../helpers/tmp.js';
import { readZip } from '../helpers/zip.js';

/**
 * Issue 22: the package as npm would publish it installs as users install tools (globally, into an
 * empty prefix) and builds a layer from a directory that is not this checkout.
 * The install needs the npm registry, for the dependencies.
 */
describe('the npm package: packed, installed globally into an empty prefix, used from elsewhere', () => {
  const prefix = tempDir('yumda-prefix-');
  const elsewhere = tempDir('yumda-elsewhere-');
  let tarball: string;
  let install: { code: number; stdout: string; stderr: string };

  beforeAll(async () => {
    tarball = await packCheckout();
    install = await run('npm', ['install', '--global', '--prefix', prefix, '--no-audit', '--no-fund', tarball], { cwd: elsewhere });
  });

  it('holds the build, the data, the licence and the docs the README links, and no sources or tests', async () => {
    const files = (await run('tar', ['-tzf', tarball])).stdout.split('\n');
    for (const f of [
      'package/LICENSE',
      'package/README.md',
      // the bundle bin runs (scripts/bundle.mjs), and the modules it was made of, whose templates it reads
      'package/dist/bundle/yumda.js',
      'package/dist/src/cli/main.js',
      // the schemas' validators compiled by the build (issue 24): without them every run loads ajv
      'package/dist/src/util/schema-validators/target.cjs',
      'package/registry/targets/al2023.json',
      'package/docs/packed-layers.md',
      'package/images/yumda/entrypoint.sh',
    ])
      expect(files).toContain(f);
    expect(files.filter((f) => /^package\/(test|src|bench)\//.test(f) || f.startsWith('package/dist/test/'))).toEqual([]);
    const pkg = JSON.parse(readFileSync(path.join(repoRoot, 'package.json'), 'utf8'));
    expect(pkg.scripts.prepare).toBeUndefined();
    // a publish builds what it packs (packCheckout packs the build the tests run on)
    expect(pkg.scripts.prepack).toBe('npm run build');
    for (const field of ['repository', 'homepage', 'bugs', 'license']) expect(pkg[field], field).toBeTruthy();
  });

  it("installs with no install script to warn about: neither its own nor a dependency's", () => {
    expect(install.code, install.stderr).toBe(0);
    // npm 11 lists the dependencies whose scripts it did not run; a published CLI cannot allow them,
    // so there must be none (dockerode's ssh2, cpu-features and protobufjs were, until yumda spoke
    // the Engine API itself)
    expect(`${install.stdout}\n${install.stderr}`.split('\n').filter((l) => /install-scripts/.test(l))).toEqual([]);
    expect(installScriptWarnings(install.stderr)).toEqual([]);
    const installed = readdirSync(path.join(prefix, 'lib', 'node_modules', 'yumda', 'node_modules'));
    for (const gone of ['dockerode', 'docker-modem', 'ssh2', 'cpu-features', 'protobufjs', '@grpc']) expect(installed).not.toContain(gone);
  });

  it('<prefix>/bin/yumda builds a jq layer for debian12 from another directory', async () => {
    const bin = path.join(prefix, 'bin', 'yumda');
    const v = await run(bin, ['--version'], { cwd: elsewhere });
    expect(v.stdout.trim()).toBe(JSON.parse(readFileSync(path.join(repoRoot, 'package.json'), 'utf8')).version);
    const out = path.join(elsewhere, 'jq.zip');
    const env = { ...process.env, XDG_CACHE_HOME: fileCache, YUMDA_DOCKER_NETWORK: process.env.YUMDA_DOCKER_NETWORK ?? 'host' };
    const r = await run(bin, ['install', 'jq', '--target', 'debian12', '--out', out], { cwd: elsewhere, env });
    expect(r.code, r.stderr).toBe(0);
    const entries = await readZip(out);
    expect(entries.find((e) => e.name === 'bin/jq')?.kind).toBe('file');
  });
});
