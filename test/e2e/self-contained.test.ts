import { chmodSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { PNG } from 'pngjs';
import { beforeAll, describe, expect, it } from 'vitest';
import type { LayerManifest } from '../../src/format/layer-manifest.js';
import { parseElf } from '../../src/elf/read.js';
import { loadRuntime } from '../../src/registry/load.js';
import { run, runYumda } from '../helpers/cli.js';
import { ensureRuntimeImage, runLambdaLike, type LambdaRun } from '../helpers/lambda.js';
import { helveticaPdf } from '../helpers/pdf.js';
import { darkPixels } from '../helpers/png.js';
import { tempDir } from '../helpers/tmp.js';

/**
 * Issue 21 §1's acceptance: self-contained layers (`--from debian13 --target debian12`) carry
 * Debian 13's C library (glibc 2.41) and run Lambda-like on two runtime stand-ins with older
 * ones: the tests' Debian 12 runtime (glibc 2.36) and a Debian 11 one (glibc 2.31, older than
 * AL2023's 2.34, the runtime users need most and which cannot run here).
 */

const debian12 = loadRuntime('debian12');

/** The two stand-ins, by name: a Debian 12 runtime and a Debian 11 one (debian:11-slim). */
async function standIns(): Promise<Array<{ name: string; image: string }>> {
  const have = await run('docker', ['image', 'inspect', 'debian:11-slim']);
  if (have.code !== 0) throw new Error('debian:11-slim is missing: run test/images/ensure-base-images.sh --release 11');
  return [
    { name: 'debian12 (glibc 2.36)', image: await ensureRuntimeImage(debian12.verifyImage!.name, debian12.verifyImage!.context) },
    { name: 'debian11 (glibc 2.31)', image: await ensureRuntimeImage('yumda/runtime-debian11', debian12.verifyImage!.context, 'x86_64', { base: 'debian:11-slim' }) },
  ];
}

interface Built {
  dir: string;
  manifest: LayerManifest;
  json: { output: { unzippedBytes: number } };
}

async function build(args: string[], dir: string): Promise<Built> {
  const r = await runYumda(['install', ...args, '--out-dir', dir, '--json']);
  if (r.code !== 0) throw new Error(`yumda install ${args.join(' ')} failed: ${r.stderr.split('\n').slice(-4).join('\n')}`);
  chmodSync(dir, 0o755);
  return { dir, manifest: JSON.parse(readFileSync(path.join(dir, '.yumda/manifest.json'), 'utf8')), json: JSON.parse(r.stdout) };
}

describe('ffmpeg, tesseract and poppler from debian13 for debian12, self-contained', () => {
  const work = tempDir('yumda-self-contained-');
  const inputs = path.join(work, 'in');
  let b: Built;
  let runtimes: Array<{ name: string; image: string }>;

  beforeAll(async () => {
    chmodSync(work, 0o755);
    runtimes = await standIns();
    // 341 MiB: over a layer zip's 250 MB, so written for a container image (--force), as a
    // debian12 layer is anyway; the build's own refusal without it is checked below
    b = await build(['ffmpeg', 'tesseract-ocr', 'tesseract-ocr-eng', 'poppler-utils', '--from', 'debian13', '--target', 'debian12', '--force'], path.join(work, 'layer'));
    await run('mkdir', ['-p', inputs]);
    chmodSync(inputs, 0o777);
    writeFileSync(path.join(inputs, 'hello.pdf'), helveticaPdf('Hello Lambda Layer'));
    chmodSync(path.join(inputs, 'hello.pdf'), 0o644);
  }, 3_600_000);

  it('carries glibc 2.41 off the library path, and every program names the layer loader', () => {
    const s = b.manifest.selfContained!;
    expect(s).toMatchObject({ from: 'debian13', interpreter: '/opt/self/lib/ld.so', libraryDirs: ['/opt/self/lib', '/opt/lib'] });
    expect(s.cLibrary.package).toBe('libc6');
    expect(s.cLibrary.version).toMatch(/^2\.41-/);
    expect(b.manifest.target).toBe('debian12');
    // no shared library where Lambda's LD_LIBRARY_PATH (…:/opt/lib) looks: the runtime's own
    // programs would load them
    expect(readdirSync(path.join(b.dir, 'lib')).filter((f) => /\.so(\.\d+)*$/.test(f))).toEqual([]);
    for (const so of ['libc.so.6', 'libm.so.6', 'ld-linux-x86-64.so.2', 'libavcodec.so.61', 'libtesseract.so.5']) {
      expect(statSync(path.join(b.dir, 'self/lib', so)).size, so).toBeGreaterThan(0);
    }
    for (const prog of ['ffmpeg', 'tesseract', 'pdftoppm']) {
      const real =
        readFileSync(path.join(b.dir, 'bin', prog))
          .subarray(0, 4)
          .toString('latin1') === '\x7fELF'
          ? prog
          : `.${prog}.real`;
      const elf = parseElf(readFileSync(path.join(b.dir, 'bin', real)));
      expect(elf.interpreter, prog).toBe('/opt/self/lib/ld.so');
      expect(elf.dynamic?.rpath?.value.split(':').slice(0, 2), prog).toEqual(['/opt/self/lib', '/opt/lib']);
    }
  });

  const onEach = (name: string, fn: (r: (script: string) => Promise<LambdaRun>) => Promise<void>) => {
    for (const i of [0, 1]) {
      it(`${name} (on ${i === 0 ? 'debian12' : 'debian11'})`, () => fn((script) => runLambdaLike(runtimes[i]!.image, b.dir, script, { work: inputs })));
    }
  };

  onEach('ffmpeg writes a frame of a lavfi test source', async (r) => {
    const out = await r('set -e; ffmpeg -hide_banner -loglevel error -f lavfi -i testsrc=size=320x240:rate=1 -frames:v 1 /tmp/f.png; base64 -w0 /tmp/f.png');
    expect(out.stderr).toBe('');
    const png = PNG.sync.read(Buffer.from(out.stdout, 'base64'));
    expect([png.width, png.height]).toEqual([320, 240]);
    // testsrc draws colour bars and a counter: many distinct colours, not a blank frame
    const colours = new Set<number>();
    for (let i = 0; i < png.data.length; i += 4) colours.add((png.data[i]! << 16) | (png.data[i + 1]! << 8) | png.data[i + 2]!);
    expect(colours.size).toBeGreaterThan(20);
  });

  onEach('pdftoppm renders the page and tesseract reads its text back', async (r) => {
    const out = await r('set -e; pdftoppm -r 150 -gray -png -singlefile /work/hello.pdf /tmp/p; tesseract /tmp/p.png - 2>/dev/null; base64 -w0 /tmp/p.png');
    const [text, png] = out.stdout.trim().split('\n');
    expect(text).toBe('Hello Lambda Layer');
    const { dark, total } = darkPixels(Buffer.from(png!, 'base64'));
    expect(dark).toBeGreaterThan(1000);
    expect(dark).toBeLessThan(total / 20);
  });

  onEach("the runtime's own programs keep their C library (the shell, base64 and ls run beside the layer)", async (r) => {
    const out = await r('ls /opt/self/lib/libc.so.6 >/dev/null && echo ok | base64 | base64 -d; ldd --version 2>/dev/null | head -1 || true');
    expect(out.stderr).toBe('');
    expect(out.stdout.split('\n')[0]).toBe('ok');
  });
});
