import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { LayerManifest } from '../../src/format/layer-manifest.js';
import { ephemeralStorageMb } from '../../src/format/packed.js';
import { loadRuntime } from '../../src/registry/load.js';
import { tempDir } from '../helpers/tmp.js';
import { runYumda } from '../helpers/cli.js';
import { ensureRuntimeImage, runLambdaLike } from '../helpers/lambda.js';
import { ensureRicImage, invokeUnderRic } from '../helpers/ric.js';
import { pdfObjects } from '../helpers/pdf.js';
import { redPixels } from '../helpers/png.js';

/**
 * Issue 14's acceptance on the two layers it names, each over Lambda's 250 MB unpacked: headless
 * Chromium and LibreOffice Writer, built with `--pack` for debian12 and run Lambda-like (layer
 * read-only at /opt, read-only root, uid 993, no network, Lambda's PATH and LD_LIBRARY_PATH),
 * /tmp a tmpfs of the ephemeral storage the build report advises (within Lambda's 512–10240 MB).
 */
const LAYER_LIMIT = 262_144_000;
const runtime = loadRuntime('debian12');

interface Built {
  dir: string;
  manifest: LayerManifest;
  unzippedBytes: number;
  storageMb: number;
}

async function buildPacked(pkg: string, work: string): Promise<Built> {
  const dir = path.join(work, pkg);
  const r = await runYumda(['install', pkg, '--target', 'debian12', '--pack', '--out-dir', dir, '--json']);
  expect(r.code, r.stderr.slice(-2000)).toBe(0);
  const json = JSON.parse(r.stdout);
  const manifest: LayerManifest = JSON.parse(readFileSync(path.join(dir, '.yumda/manifest.json'), 'utf8'));
  return { dir, manifest, unzippedBytes: json.output.unzippedBytes, storageMb: ephemeralStorageMb(manifest.packed!.tmpMb) };
}

describe('chromium --pack (debian12): headless screenshot Lambda-like', () => {
  const work = tempDir('yumda-packed-chromium-');
  let image: string;
  let b: Built;

  beforeAll(async () => {
    chmodSync(work, 0o755);
    image = await ensureRuntimeImage(runtime.verifyImage!.name, runtime.verifyImage!.context);
    b = await buildPacked('chromium', work);
    const page = path.join(work, 'page');
    mkdirSync(page);
    writeFileSync(
      path.join(page, 'page.html'),
      '<!doctype html><html><body style="margin:0;background:#fff"><h1 style="margin:20px;font:bold 40px sans-serif;color:#f00">Hello Lambda</h1></body></html>\n',
    );
    chmodSync(page, 0o755);
  }, 3_600_000);

  it('fits: at most 250 MB unzipped, though the tree is far bigger', () => {
    console.log(
      `chromium --pack: layer ${(b.unzippedBytes / 1048576).toFixed(1)} MiB unzipped, archive ${(b.manifest.packed!.packedBytes / 1048576).toFixed(1)} MiB, tree ${(b.manifest.packed!.treeBytes / 1048576).toFixed(1)} MiB, /tmp ${b.manifest.packed!.tmpMb} MB, ephemeral storage advised ${b.storageMb} MB`,
    );
    expect(b.unzippedBytes).toBeLessThanOrEqual(LAYER_LIMIT);
    expect(b.manifest.packed!.treeBytes).toBeGreaterThan(LAYER_LIMIT);
    expect(b.manifest.packed!.programs).toContain('chromium');
    expect(b.storageMb).toBeLessThanOrEqual(10240);
  });

  it('writes a screenshot with the heading rendered; first and second invocation timed', async () => {
    const shot = (n: number) =>
      `chromium --headless --no-sandbox --disable-gpu --disable-dev-shm-usage --screenshot=/tmp/s${n}.png --window-size=400,300 file:///work/page.html >/tmp/log${n} 2>&1; echo "rc $?"`;
    const script = `
      t0=$(date +%s%N); ${shot(1)}
      t1=$(date +%s%N); ${shot(2)}
      t2=$(date +%s%N)
      echo "ms $(( (t1 - t0) / 1000000 )) $(( (t2 - t1) / 1000000 ))"
      base64 -w0 /tmp/s2.png; echo; tail -3 /tmp/log1 | tr '\\n' ' '`;
    const r = await runLambdaLike(image, b.dir, script, { work: path.join(work, 'page'), tmpMb: b.storageMb, shell: '/bin/bash' });
    const [rc1, rc2, ms, png, log] = r.stdout.split('\n');
    expect([rc1, rc2], `${log}\n${r.stderr}`).toEqual(['rc 0', 'rc 0']);
    const [first, second] = ms!.split(' ').slice(1).map(Number);
    console.log(`chromium --pack, Lambda-like (/tmp ${b.storageMb} MB): first call ${first} ms (unpacks ${b.manifest.packed!.tmpMb} MB), second ${second} ms (this machine)`);
    expect(second!).toBeLessThan(first!);
    const px = redPixels(Buffer.from(png!, 'base64'));
    expect([px.width, px.height]).toEqual([400, 300]);
    // "Hello Lambda" at 40px bold: thousands of red glyph pixels, all in the upper half; a page
    // without fonts (tofu boxes) or a blank render gives none or a different shape
    expect(px.red, JSON.stringify(px)).toBeGreaterThan(1500);
    expect(px.red).toBeLessThan(400 * 300 * 0.25);
    expect(px.top).toBe(px.red);
  });

  it('kill the first unpack midway, then invoke again: it works, and nothing half-unpacked is left', async () => {
    const dir = b.manifest.packed!.unpackDir;
    const script = `
      setsid chromium --version </dev/null >/dev/null 2>&1 & pid=$!
      for i in $(seq 1 2000); do compgen -G '${dir}.part.*/lib/*' >/dev/null && break; sleep 0.005; done
      sleep 0.3; { kill -9 -- -$pid; wait $pid; } 2>/dev/null; sleep 0.2
      echo "after kill: $(ls -A /tmp | tr '\\n' ' ')"
      chromium --version; echo "rc $?"
      echo "after: $(ls -A /tmp | grep yumda | tr '\\n' ' ')"`;
    const r = await runLambdaLike(image, b.dir, script, { tmpMb: b.storageMb, shell: '/bin/bash' });
    const lines = r.stdout.split('\n');
    const base = path.posix.basename(dir);
    expect(lines[0], r.stdout + r.stderr).toMatch(new RegExp(`^after kill: ${base}\\.lock ${base}\\.part\\.\\d+\\.\\d+ $`));
    expect(lines[1]).toMatch(/^Chromium \d+\./);
    expect(lines[2]).toBe('rc 0');
    expect(lines[3]).toBe(`after: ${base} `);
  });

  it('two concurrent first invocations both work', async () => {
    const script = `
      chromium --version >/tmp/a 2>&1 & a=$!
      chromium --version >/tmp/b 2>&1 & b=$!
      wait $a; ra=$?; wait $b; rb=$?
      echo "rc $ra $rb"; cat /tmp/a /tmp/b; ls -A /tmp | grep yumda`;
    const r = await runLambdaLike(image, b.dir, script, { tmpMb: b.storageMb, shell: '/bin/bash' });
    const lines = r.stdout.split('\n');
    expect(lines[0], r.stdout + r.stderr).toBe('rc 0 0');
    expect(lines[1]).toMatch(/^Chromium \d+\./);
    expect(lines[2]).toBe(lines[1]);
    expect(lines.slice(3).filter(Boolean)).toEqual([path.posix.basename(b.manifest.packed!.unpackDir)]);
  });

  it('a /tmp too small (the 512 MB default here): one clear line, and no half tree left behind', async () => {
    const small = Math.min(512, b.manifest.packed!.tmpMb - 1);
    const r = await runLambdaLike(image, b.dir, 'chromium --version; echo "rc $?"; ls -A /tmp', { tmpMb: small });
    expect(r.stdout).toBe('rc 1\n');
    expect(r.stderr).toMatch(
      new RegExp(`^yumda: chromium: /tmp has \\d+ MB free, unpacking needs ${b.manifest.packed!.tmpMb} MB: set the function's ephemeral storage to at least \\d+ MB\\n$`),
    );
  });
});

describe('libreoffice-writer-nogui --pack (debian12): a text file to PDF Lambda-like', () => {
  const work = tempDir('yumda-packed-lo-');
  let image: string;
  let b: Built;

  beforeAll(async () => {
    chmodSync(work, 0o755);
    image = await ensureRuntimeImage(runtime.verifyImage!.name, runtime.verifyImage!.context);
    b = await buildPacked('libreoffice-writer-nogui', work);
  }, 3_600_000);

  it('fits: at most 250 MB unzipped, though the tree is far bigger', () => {
    console.log(
      `libreoffice-writer-nogui --pack: layer ${(b.unzippedBytes / 1048576).toFixed(1)} MiB unzipped, archive ${(b.manifest.packed!.packedBytes / 1048576).toFixed(1)} MiB, tree ${(b.manifest.packed!.treeBytes / 1048576).toFixed(1)} MiB, /tmp ${b.manifest.packed!.tmpMb} MB, ephemeral storage advised ${b.storageMb} MB`,
    );
    expect(b.unzippedBytes).toBeLessThanOrEqual(LAYER_LIMIT);
    expect(b.manifest.packed!.treeBytes).toBeGreaterThan(LAYER_LIMIT);
    expect(b.manifest.packed!.programs).toContain('soffice');
  });

  it('soffice --headless --convert-to pdf writes a PDF with an embedded font; first and second invocation timed', async () => {
    const script = `
      mkdir /tmp/o && printf 'Dear Lambda,\\nthis letter was converted by a packed layer.\\n' >/tmp/o/letter.txt
      t0=$(date +%s%N); soffice --headless --convert-to pdf --outdir /tmp/o /tmp/o/letter.txt >/tmp/o/log1 2>&1; echo "rc $?"
      t1=$(date +%s%N); soffice --headless --convert-to pdf --outdir /tmp/o /tmp/o/letter.txt >/tmp/o/log2 2>&1; echo "rc $?"
      t2=$(date +%s%N)
      echo "ms $(( (t1 - t0) / 1000000 )) $(( (t2 - t1) / 1000000 ))"
      base64 -w0 /tmp/o/letter.pdf; echo; tail -3 /tmp/o/log1 | tr '\\n' ' '`;
    const r = await runLambdaLike(image, b.dir, script, { tmpMb: b.storageMb, shell: '/bin/bash' });
    const [rc1, rc2, ms, pdf64, log] = r.stdout.split('\n');
    expect([rc1, rc2], `${log}\n${r.stderr}`).toEqual(['rc 0', 'rc 0']);
    const [first, second] = ms!.split(' ').slice(1).map(Number);
    console.log(`soffice --pack, Lambda-like (/tmp ${b.storageMb} MB): first call ${first} ms (unpacks ${b.manifest.packed!.tmpMb} MB), second ${second} ms (this machine)`);
    const pdf = Buffer.from(pdf64!, 'base64');
    expect(pdf.subarray(0, 5).toString()).toBe('%PDF-');
    const objects = pdfObjects(pdf);
    // an embedded TrueType font program, subset (its name carries the six-letter tag)
    expect(objects).toMatch(/\/FontFile2 \d+ 0 R/);
    expect(objects).toMatch(/\/BaseFont\s*\/[A-Z]{6}\+\w+/);
    expect((objects.match(/\/Type\s*\/Page\b/g) ?? []).length).toBe(1);
  });

  it('a Node handler under aws-lambda-ric, started through AWS_LAMBDA_EXEC_WRAPPER, spawns soffice from the packed layer', async () => {
    const ric = await ensureRicImage();
    const handlerSource = `
import { execFile } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { promisify } from 'node:util';
const run = promisify(execFile);
export const handler = async (event) => {
  const atInit = { FONTCONFIG_PATH: process.env.FONTCONFIG_PATH ?? null, unpacked: (() => { try { return readFileSync('/tmp/bin/soffice').length > 0; } catch { return false; } })() };
  mkdirSync('/tmp/o', { recursive: true });
  writeFileSync('/tmp/o/letter.txt', event.text);
  const r = await run('soffice', ['--headless', '--convert-to', 'pdf', '--outdir', '/tmp/o', '/tmp/o/letter.txt'], { env: { ...process.env, HOME: '/tmp' } });
  return { atInit, stdout: r.stdout, pdf: readFileSync('/tmp/o/letter.pdf').toString('base64') };
};
`;
    const r = await invokeUnderRic({
      image: ric,
      layerDir: b.dir,
      handlerSource,
      event: { text: 'Dear Lambda,\nthis letter went through the runtime interface client.\n' },
      env: { AWS_LAMBDA_EXEC_WRAPPER: '/opt/.yumda/exec-wrapper' },
      tmpMb: b.storageMb,
      timeoutMs: 300_000,
    });
    expect(r.record?.kind, r.stderr.slice(-2000)).toBe('response');
    const body = r.record!.body as { atInit: { FONTCONFIG_PATH: string; unpacked: boolean }; stdout: string; pdf: string };
    // unpacked and its environment set during init, before the handler ran
    expect(body.atInit).toEqual({ FONTCONFIG_PATH: '/tmp/etc/fonts', unpacked: true });
    expect(body.stdout).toMatch(/convert \/tmp\/o\/letter\.txt -> \/tmp\/o\/letter\.pdf/);
    const objects = pdfObjects(Buffer.from(body.pdf, 'base64'));
    expect(objects).toMatch(/\/FontFile2 \d+ 0 R/);
  });
});
