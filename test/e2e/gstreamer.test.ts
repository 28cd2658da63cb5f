import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { LayerManifest } from '../../src/format/layer-manifest.js';
import { loadRuntime } from '../../src/registry/load.js';
import { tempDir } from '../helpers/tmp.js';
import { run, runYumda } from '../helpers/cli.js';
import { ensureRuntimeImage, runLambdaLike } from '../helpers/lambda.js';

/** What GStreamer prints when it cannot run its plugin scanner (gst-plugin-scanner). */
const LOADER_WARNING = /External plugin loader failed|plugin loader helper binary was not found/;

/**
 * Issue 12's GStreamer acceptance: the layer builds without --allow-missing, its pipeline writes
 * a PNG Lambda-like with no plugin-loader warning (libgstreamer finds gst-plugin-scanner by
 * joining prefix-relative directories to its own location: the directory rule moves them), the
 * plugin registry goes under /tmp, gst-inspect-1.0 loads every plugin the layer ships, and what
 * was left out is listed by inspect.
 */
describe('gstreamer1.0-tools + gstreamer1.0-plugins-good, Lambda-like', () => {
  const work = tempDir('yumda-gst-');
  const zip = path.join(work, 'gst.zip');
  const layer = path.join(work, 'layer');
  let manifest: LayerManifest;
  let image: string;

  beforeAll(async () => {
    chmodSync(work, 0o755);
    const r = await runYumda(['install', 'gstreamer1.0-tools', 'gstreamer1.0-plugins-good', '--target', 'debian12', '--out', zip]);
    expect(r.code, r.stderr).toBe(0);
    mkdirSync(layer);
    expect((await run('unzip', ['-q', zip, '-d', layer])).code).toBe(0);
    chmodSync(layer, 0o755);
    manifest = JSON.parse(readFileSync(path.join(layer, '.yumda/manifest.json'), 'utf8')) as LayerManifest;
    const runtime = loadRuntime('debian12');
    image = await ensureRuntimeImage(runtime.verifyImage!.name, runtime.verifyImage!.context);
  });

  it('libgstreamer finds its scanner: its libdir and the scanner directory relative to the prefix moved with the layer', () => {
    const moved = (manifest.rewrittenDirectories ?? []).filter((d) => d.file.startsWith('/opt/lib/libgstreamer-1.0.so'));
    expect(moved.map((d) => [d.from, d.to])).toEqual(
      expect.arrayContaining([
        // only first components change: the root, and `lib` of lib/<triplet>, which is the first
        // component of the relative libdir the linker merged into this string's tail; libgstreamer
        // climbs from its directory by that libdir's depth, now one, and joins the scanner's
        // directory to /opt, where /opt/x86_64-linux-gnu leads to lib
        ['/usr/lib/x86_64-linux-gnu', '/opt/././x86_64-linux-gnu'],
        ['lib/x86_64-linux-gnu/gstreamer1.0', '././x86_64-linux-gnu/gstreamer1.0'],
      ]),
    );
  });

  it('carries no init system: systemd and libsystemd-shared, pulled in by a dependency, are left out, with a reason', () => {
    const services = (manifest.unusable ?? []).find((u) => u.id === 'services');
    expect(services?.why).toBe('Lambda runs no init system, device manager or system bus');
    expect(services!.files).toBeGreaterThan(400);
    // the package's empty unit directories go with it
    for (const gone of ['bin/systemctl', 'lib/systemd']) expect(existsSync(path.join(layer, gone)), gone).toBe(false);
    expect(manifest.packages.find((p) => p.name === 'systemd')?.files ?? 0).toBe(0);
  });

  it.each([
    { how: 'HOME from the passwd entry (/tmp)', env: '', registry: '/tmp/.cache/gstreamer-1.0' },
    { how: 'XDG_CACHE_HOME under /tmp', env: 'XDG_CACHE_HOME=/tmp/xdg', registry: '/tmp/xdg/gstreamer-1.0' },
    { how: 'a HOME that cannot be written', env: 'HOME=/home/sbx_user1051', registry: '' },
  ])('gst-launch-1.0 writes a PNG with no plugin-loader warning ($how)', async ({ env, registry }) => {
    const r = await runLambdaLike(
      image,
      layer,
      `set -e; ${env ? `export ${env}; ` : ''}gst-launch-1.0 -q videotestsrc num-buffers=1 ! pngenc ! filesink location=/tmp/f.png; ` +
        `base64 -w0 /tmp/f.png; echo; ${registry ? `ls ${registry}` : 'true'}`,
    );
    expect(r.stderr).not.toMatch(LOADER_WARNING);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const [b64, registryFiles] = r.stdout.split('\n');
    const png = Buffer.from(b64!, 'base64');
    expect(png.subarray(0, 8).toString('hex')).toBe('89504e470d0a1a0a');
    expect(png.subarray(12, 16).toString('latin1')).toBe('IHDR');
    // videotestsrc's default frame
    expect([png.readUInt32BE(16), png.readUInt32BE(20)]).toEqual([320, 240]);
    expect(png.length).toBeGreaterThan(1000);
    if (registry) expect(registryFiles).toMatch(/^registry\.x86_64\.bin$/);
  });

  it('gst-inspect-1.0 loads every plugin the layer ships, none blacklisted', async () => {
    const shipped = readdirSync(path.join(layer, 'lib/gstreamer-1.0')).filter((f) => f.endsWith('.so'));
    const leftOut = (manifest.leftOut ?? []).filter((m) => m.file.startsWith('/opt/lib/gstreamer-1.0/'));
    // the left-out plugins are not shipped: the floor is what is
    for (const m of leftOut) expect(shipped).not.toContain(path.posix.basename(m.file));
    expect(shipped.length).toBeGreaterThan(50);
    const r = await runLambdaLike(image, layer, 'gst-inspect-1.0 | tail -n 1; gst-inspect-1.0 -b | tail -n 1');
    expect(r.stderr).not.toMatch(LOADER_WARNING);
    expect(r.code).toBe(0);
    const [total, blacklisted] = r.stdout.trim().split('\n');
    const m = /^Total count: (\d+) plugins?, (\d+) features?$/.exec(total!);
    expect(m, total).not.toBeNull();
    // every shipped plugin file, plus the core elements built into libgstreamer
    expect(Number(m![1])).toBeGreaterThanOrEqual(shipped.length + 1);
    expect(blacklisted).toBe('Total count: 0 blacklisted files');
  });

  it('yumda inspect lists every module the build left out, with the library it lacks', async () => {
    const left = manifest.leftOut ?? [];
    expect(left.length).toBeGreaterThan(0);
    const r = await runYumda(['inspect', zip]);
    expect(r.code).toBe(0);
    for (const m of left) expect(r.stdout).toContain(`${m.file.replace(/^\/opt\//, '')} needs ${m.soname}`);
    expect(r.stdout).toMatch(/Compiled-in directories moved to the layer \(\d+, /);
  });
});
