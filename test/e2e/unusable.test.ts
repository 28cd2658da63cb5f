import { chmodSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { PNG } from 'pngjs';
import { beforeAll, describe, expect, it } from 'vitest';
import type { LayerManifest } from '../../src/format/layer-manifest.js';
import { loadRuntime } from '../../src/registry/load.js';
import { tempDir } from '../helpers/tmp.js';
import { run, runYumda } from '../helpers/cli.js';
import { ensureRuntimeImage, runLambdaLike } from '../helpers/lambda.js';
import { LAMBDA_UNZIPPED_LIMIT } from '../../src/format/lambda.js';

/**
 * Issue 12, class 4, on a real package: mpv's closure reaches libGL, and through it mesa's DRI,
 * VA-API and VDPAU drivers, LLVM and z3 (467 MiB unpacked). What Lambda cannot use is left out
 * by the data in registry/unusable-on-lambda.json, the libraries only it needed are pruned, the
 * layer fits under 250 MB, and mpv writes a frame of a lavfi test source Lambda-like.
 */
describe('mpv: GPU drivers and what only they needed are left out; the layer fits and works', () => {
  const work = tempDir('yumda-mpv-');
  const layer = path.join(work, 'layer');
  const zip = path.join(work, 'mpv.zip');
  let output = '';

  beforeAll(async () => {
    chmodSync(work, 0o777);
    const r = await runYumda(['install', 'mpv', '--target', 'debian12', '--out', zip]);
    output = r.stdout + r.stderr;
    expect(r.code, r.stderr).toBe(0);
    mkdirSync(layer);
    expect((await run('unzip', ['-q', zip, '-d', layer])).code).toBe(0);
  });

  it('reports one line per reason, with the libraries only the drivers needed, and records it in the manifest', () => {
    const line = output.split('\n').find((l) => l.includes('left out: GPU drivers'));
    expect(line).toMatch(
      /^ {2}left out: GPU drivers \(Lambda has no GPU\): \d+ files, [\d.]+ MiB; libraries only they needed: .*libLLVM-15\.so\.1.*libz3\.so\.4.* \([\d.]+ MiB\); --keep-unusable gpu-drivers keeps them$/,
    );
    const manifest = JSON.parse(readFileSync(path.join(layer, '.yumda/manifest.json'), 'utf8')) as LayerManifest;
    const gpu = manifest.unusable!.find((u) => u.id === 'gpu-drivers')!;
    expect(gpu.libraries).toEqual(expect.arrayContaining(['libLLVM-15.so.1', 'libz3.so.4']));
    expect(gpu.bytes + gpu.libraryBytes).toBeGreaterThan(300 * 2 ** 20);
    // what programs link stays: the VA-API, VDPAU and Vulkan loaders, libGL itself
    for (const lib of ['libva.so.2', 'libvdpau.so.1', 'libvulkan.so.1', 'libGL.so.1']) expect(existsSync(path.join(layer, 'lib', lib)), lib).toBe(true);
    for (const gone of ['lib/dri', 'lib/vdpau', 'lib/libLLVM-15.so.1', 'lib/libz3.so.4']) expect(existsSync(path.join(layer, gone)), gone).toBe(false);
  });

  it('fits under Lambda’s 250 MB', async () => {
    // Info-ZIP's total of the entries' uncompressed sizes: what Lambda counts of a layer zip
    const totals = await run('zipinfo', ['-t', zip]);
    const bytes = Number(/([\d]+) bytes uncompressed/.exec(totals.stdout)?.[1]);
    expect(bytes).toBeGreaterThan(100 * 2 ** 20);
    expect(bytes).toBeLessThan(LAMBDA_UNZIPPED_LIMIT);
  });

  it('inspect and verify list what was left out and why', async () => {
    const r = await runYumda(['inspect', zip]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^ {2}left out: GPU drivers \(Lambda has no GPU\): .*libLLVM-15\.so\.1/m);
    const v = await runYumda(['verify', zip]);
    expect(v.stdout + v.stderr).toMatch(/^left out: GPU drivers \(Lambda has no GPU\): .*libLLVM-15\.so\.1/m);
  });

  it('mpv writes a frame of a lavfi test source Lambda-like, with and without LD_LIBRARY_PATH', async () => {
    const image = await ensureRuntimeImage(loadRuntime('debian12').verifyImage!.name, loadRuntime('debian12').verifyImage!.context);
    for (const ldLibraryPath of [undefined, null]) {
      const out = path.join(work, `frames-${ldLibraryPath === null ? 'nolib' : 'lib'}`);
      mkdirSync(out);
      chmodSync(out, 0o777);
      const r = await runLambdaLike(
        image,
        layer,
        `set -e; cd /tmp; mpv --no-config --really-quiet --ao=null --vo=image --vo-image-format=png --vo-image-outdir=/work/${path.basename(out)} --frames=1 'av://lavfi:testsrc=size=320x240:rate=1'`,
        { work, ldLibraryPath },
      );
      expect(r.code, r.stderr).toBe(0);
      const png = PNG.sync.read(readFileSync(path.join(out, '00000001.png')));
      expect([png.width, png.height]).toEqual([320, 240]);
      // testsrc is a rainbow of bars and gradients: a frame that decoded to one colour has few
      const colours = new Set<number>();
      for (let i = 0; i < png.data.length; i += 4) colours.add(png.data.readUInt32BE(i));
      expect(colours.size).toBeGreaterThan(100);
    }
  });

  it('--keep-unusable gpu-drivers keeps the drivers and LLVM (for llvmpipe), and then the layer is over the limit', async () => {
    const kept = path.join(work, 'kept');
    const r = await runYumda(['install', 'mpv', '--target', 'debian12', '--out-dir', kept, '--keep-unusable', 'gpu-drivers', '--force']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout + r.stderr).not.toMatch(/left out: GPU drivers/);
    expect(existsSync(path.join(kept, 'lib/dri/swrast_dri.so'))).toBe(true);
    expect(existsSync(path.join(kept, 'lib/libLLVM-15.so.1'))).toBe(true);
    const pct = /\(([\d.]+)% of Lambda's 250 MB limit\)/.exec(r.stdout + r.stderr);
    expect(Number(pct?.[1])).toBeGreaterThan(100);
  });
});
