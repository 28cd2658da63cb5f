import { chownSync, mkdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { repoRoot, run } from '../helpers/cli.js';
import { ensureNodeImage } from '../helpers/node-image.js';
import { packCheckout } from '../helpers/npm-pack.js';
import { tempDir } from '../helpers/tmp.js';
import { readZip } from '../helpers/zip.js';

/**
 * Issue 22: the yumda image, as lambci/yumda users know it. `docker run -v "$PWD":/out IMAGE
 * install jq --target debian12 --out /out/jq.zip` builds the layer with no Docker socket: apt runs
 * in the container itself (--local --disposable, which the entry point adds). The image is built by
 * scripts/build-image.sh from this checkout's `npm pack`, FROM a stand-in for node:22-bookworm-slim
 * (Debian 12 slim with the Node.js running these tests: no image can be pulled here); its build
 * needs the npm registry and Debian's repositories.
 */
describe('the yumda image builds a layer into a mounted directory with no Docker socket', () => {
  const tag = `yumda-test/yumda:e2e-${process.pid}`;
  const work = tempDir('yumda-image-tool-');
  const out = path.join(work, 'out');
  // the mount's owner is not the container's root, so the entry point has to give the files to it
  const owner = process.getuid?.() === 0 ? 4321 : process.getuid!();

  beforeAll(async () => {
    const tarball = await packCheckout();
    const nodeImage = await ensureNodeImage();
    const b = await run(path.join(repoRoot, 'scripts/build-image.sh'), ['debian12', tag, '--network', 'host', '--build-arg', `NODE_IMAGE=${nodeImage}`], {
      env: { ...process.env, YUMDA_TARBALL: tarball },
    });
    expect(b.code, b.stdout.slice(-2000) + b.stderr).toBe(0);
    mkdirSync(out);
    if (owner !== process.getuid!()) chownSync(out, owner, owner);
  });

  afterAll(async () => {
    await run('docker', ['rmi', tag]);
  });

  it('install jq --target debian12 --out /out/jq.zip writes the layer and its SBOM into the mount, owned by its owner', async () => {
    const r = await run('docker', ['run', '--rm', '--network', 'host', '-v', `${out}:/out`, tag, 'install', 'jq', '--target', 'debian12', '--out', '/out/jq.zip']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout + r.stderr).toMatch(/build image: +this machine \(--local, debian 12\)/);
    const entries = await readZip(path.join(out, 'jq.zip'));
    expect(entries.find((e) => e.name === 'bin/jq')?.kind).toBe('file');
    for (const f of ['jq.zip', 'jq.cdx.json']) expect(statSync(path.join(out, f)).uid, f).toBe(owner);
  });

  it("takes the image's target when none is given, and --dockerfile still only prints a stage", async () => {
    const r = await run('docker', ['run', '--rm', '--network', 'none', tag, 'install', 'jq', '--dry-run']);
    expect(r.code, r.stderr).not.toBe(0); // no network: but the target it tried is the image's
    expect(r.stdout).toMatch(/^Building for debian12 x86_64 \(runtime debian12\)\n {2}build image: +this machine \(--local, debian 12\)/);
    const d = await run('docker', ['run', '--rm', '--network', 'none', tag, 'install', 'jq', '--dockerfile']);
    expect(d.code, d.stderr).toBe(0);
    expect(d.stdout).toContain(' && yumda install jq --target debian12 --arch x86_64 --local --disposable --out-dir /yumda-layer\n');
  });
});
