import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadRuntime } from '../../src/registry/load.js';
import { darkPixels } from '../helpers/png.js';
import { helveticaPdf } from '../helpers/pdf.js';
import { run, runYumda } from '../helpers/cli.js';
import { tempDir } from '../helpers/tmp.js';
import { ensureRuntimeImage, runLambdaLike } from '../helpers/lambda.js';

/**
 * Issue 21's debian13 target: `yumda install poppler-utils --target debian13` resolves against
 * trixie, and the layer's pdftoppm renders Helvetica text Lambda-like in the debian13 runtime
 * (debian:13-slim, made by test/images/ensure-base-images.sh --release 13).
 */
describe('poppler-utils layer for debian13 (trixie)', () => {
  const work = tempDir('yumda-debian13-');
  const zip = path.join(work, 'poppler.zip');
  const layerDir = path.join(work, 'opt');
  const inputs = path.join(work, 'in');
  let plan: { target: string; packages: Array<{ name: string; version: string }> };
  let image: string;
  const runtime = loadRuntime('debian13');

  beforeAll(async () => {
    const r = await runYumda(['install', 'poppler-utils', '--target', 'debian13', '--out', zip, '--json']);
    expect(r.stderr).not.toMatch(/error/);
    expect(r.code).toBe(0);
    plan = JSON.parse(r.stdout);
    expect((await run('unzip', ['-q', zip, '-d', layerDir])).code).toBe(0);
    chmodSync(work, 0o755);
    chmodSync(layerDir, 0o755);
    mkdirSync(inputs);
    writeFileSync(path.join(inputs, 'hello.pdf'), helveticaPdf('Hello Trixie Layer'));
    chmodSync(inputs, 0o755);
    image = await ensureRuntimeImage(runtime.verifyImage!.name, runtime.verifyImage!.context);
  });

  it("plans trixie's packages and leaves out what debian:13-slim has", () => {
    const versions = new Map(plan.packages.map((p) => [p.name, p.version]));
    // trixie's poppler is 25.x (bookworm's 22.12), in its t64-renamed library package
    expect(versions.get('poppler-utils')).toMatch(/^25\./);
    expect([...versions.keys()].some((n) => /^libpoppler\d+t?6?4?$/.test(n))).toBe(true);
    const provided = new Set(runtime.packages.map((p) => p.name));
    expect([...versions.keys()].filter((n) => provided.has(n))).toEqual([]);
    const manifest = JSON.parse(readFileSync(path.join(layerDir, '.yumda/manifest.json'), 'utf8')) as { target: string; runtime: string };
    expect(manifest).toMatchObject({ target: 'debian13', runtime: 'debian13' });
  });

  it('renders Helvetica text with pdftoppm and extracts it with pdftotext, Lambda-like in debian:13-slim', async () => {
    const r = await runLambdaLike(
      image,
      layerDir,
      'set -e; pdftoppm -png -r 72 /work/hello.pdf /tmp/page; base64 /tmp/page-1.png > /tmp/png.b64; echo ===TEXT===; pdftotext /work/hello.pdf -; echo ===PNG===; cat /tmp/png.b64',
      { work: inputs },
    );
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const [, text, png] = /===TEXT===\n([\s\S]*)===PNG===\n([\s\S]*)$/.exec(r.stdout)!;
    expect(text!.trim()).toBe('Hello Trixie Layer');
    const { dark, total } = darkPixels(Buffer.from(png!, 'base64'));
    expect(dark).toBeGreaterThan(1500);
    expect(dark).toBeLessThan(total / 20);
  });

  it("checked against debian12's runtime (glibc 2.36) the same layer is refused: its programs need GLIBC_2.38 and newer", async () => {
    // `yumda verify`: the closure check names the versions first
    const v = await runYumda(['verify', zip, '--target', 'debian12', '--json']);
    expect(v.code).not.toBe(0);
    const closure = (JSON.parse(v.stdout) as { checks: Array<{ check: string; status: string; message: string }> }).checks.find((c) => c.check === 'closure')!;
    expect(closure.status).toBe('fail');
    expect(closure.message).toMatch(
      /^\S+ and \d+ more files need GLIBC_2\.(3[89]|4\d)\S* (\(and [^)]*\) )?of libc\.so\.6, which the debian12 runtime's libc\.so\.6 lacks \(its newest is GLIBC_2\.36\)/,
    );
    // every command that writes a layer made elsewhere passes the same gate: refused in one line
    const out = path.join(work, 'p13-on-12.tar');
    const i = await runYumda(['image', '--layer', zip, '--runtime-manifest', 'registry/runtimes/debian12.json', '--oci', out]);
    expect(i.code).toBe(1);
    expect(i.stderr.trim().split('\n')).toEqual([
      expect.stringMatching(
        /^yumda: error: \S+ and \d+ more files need GLIBC_2\.(3[89]|4\d) .*of libc\.so\.6, which the debian12 runtime's libc\.so\.6 lacks \(its newest is GLIBC_2\.36\).*--target debian13.*--from debian13/,
      ),
    ]);
    expect(existsSync(out)).toBe(false);
  });
});
