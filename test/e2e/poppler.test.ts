import { chmodSync, existsSync, lstatSync, readFileSync, readlinkSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadRuntime } from '../../src/registry/load.js';
import { darkPixels } from '../helpers/png.js';
import { helveticaPdf } from '../helpers/pdf.js';
import { readZip, type ZipEntryInfo } from '../helpers/zip.js';
import { run, runYumda } from '../helpers/cli.js';
import { tempDir } from '../helpers/tmp.js';
import { ensureRuntimeImage, runLambdaLike } from '../helpers/lambda.js';

/**
 * Issue 2's acceptance: `yumda install poppler-utils --target debian12` gives a layer whose
 * pdftoppm renders Helvetica text in a Lambda-like debian12 container.
 */
describe('poppler-utils layer for debian12', () => {
  const work = tempDir('yumda-poppler-');
  const zipA = path.join(work, 'poppler.zip');
  const zipB = path.join(work, 'poppler-again.zip');
  const layerDir = path.join(work, 'opt');
  const inputs = path.join(work, 'in');
  let plan: { packages: Array<{ name: string; version: string; installedSize: number; requiredBy: string[]; requested: boolean }> };
  let entries: ZipEntryInfo[];
  let image: string;
  const runtime = loadRuntime('debian12');

  beforeAll(async () => {
    const a = await runYumda(['install', 'poppler-utils', '--target', 'debian12', '--out', zipA, '--json']);
    expect(a.stderr).not.toMatch(/error/);
    expect(a.code).toBe(0);
    plan = JSON.parse(a.stdout);
    const b = await runYumda(['install', 'poppler-utils', '--target', 'debian12', '--out', zipB, '--quiet']);
    expect(b.code).toBe(0);
    entries = await readZip(zipA);
    expect((await run('unzip', ['-q', zipA, '-d', layerDir])).code).toBe(0);
    chmodSync(work, 0o755);
    chmodSync(layerDir, 0o755);
    await run('mkdir', ['-p', inputs]);
    writeFileSync(path.join(inputs, 'hello.pdf'), helveticaPdf('Hello Lambda Layer'));
    chmodSync(inputs, 0o755);
    image = await ensureRuntimeImage(runtime.verifyImage!.name, runtime.verifyImage!.context);
  });

  it('reports a plan: each package with version, size and what pulled it in', () => {
    const names = plan.packages.map((p) => p.name);
    expect(names).toEqual(expect.arrayContaining(['poppler-utils', 'libpoppler126', 'libfontconfig1', 'fonts-dejavu-core']));
    for (const p of plan.packages) {
      expect(p.version).toMatch(/\d/);
      expect(p.installedSize).toBeGreaterThan(0);
      expect(p.requiredBy).toEqual(['poppler-utils']);
    }
    expect(plan.packages.find((p) => p.name === 'poppler-utils')?.requested).toBe(true);
  });

  it('renders Helvetica text with pdftoppm and extracts it with pdftotext, Lambda-like, without fontconfig errors', async () => {
    const r = await runLambdaLike(
      image,
      layerDir,
      'set -e; pdftoppm -png -r 72 /work/hello.pdf /tmp/page; base64 /tmp/page-1.png > /tmp/png.b64; echo ===TEXT===; pdftotext /work/hello.pdf -; echo ===PNG===; cat /tmp/png.b64',
      { work: inputs },
    );
    expect(r.stderr).not.toMatch(/Fontconfig error/);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const [, text, png] = /===TEXT===\n([\s\S]*)===PNG===\n([\s\S]*)$/.exec(r.stdout)!;
    expect(text!.trim()).toBe('Hello Lambda Layer');
    const { dark, total } = darkPixels(Buffer.from(png!, 'base64'));
    // 18 glyphs at 36 pt: a few thousand dark pixels; an empty page has none, a failed render all
    expect(dark).toBeGreaterThan(1500);
    expect(dark).toBeLessThan(total / 20);
  });

  it('runs with LD_LIBRARY_PATH unset (binaries carry /opt/lib as their RPATH)', async () => {
    const r = await runLambdaLike(image, layerDir, 'pdftotext /work/hello.pdf -', { work: inputs, ldLibraryPath: null });
    expect(r.stderr).toBe('');
    expect(r.stdout.trim()).toBe('Hello Lambda Layer');
  });

  it('carries an exec wrapper that gives in-process code the environment its libraries need (AWS_LAMBDA_EXEC_WRAPPER)', async () => {
    // Lambda runs the wrapper with the runtime's command line; a shell stands in for the runtime here
    const r = await runLambdaLike(image, layerDir, `/opt/.yumda/exec-wrapper /bin/sh -c 'echo "$FONTCONFIG_PATH"; test -f "$FONTCONFIG_PATH/fonts.conf" && echo found; exit 4'`);
    expect([r.stdout, r.code]).toEqual(['/opt/etc/fonts\nfound\n', 4]);
  });

  it('ships no file of a package the runtime provides', () => {
    const manifest = JSON.parse(readFileSync(path.join(layerDir, '.yumda/manifest.json'), 'utf8')) as { packages: Array<{ name: string }> };
    const runtimePackages = new Set(runtime.packages.map((p) => p.name));
    expect(manifest.packages.filter((p) => runtimePackages.has(p.name))).toEqual([]);
    const runtimeLibs = new Set(runtime.libraries);
    const shippedLibs = entries.filter((e) => e.name.startsWith('lib/') && e.kind !== 'dir').map((e) => path.posix.basename(e.name));
    expect(shippedLibs.filter((l) => runtimeLibs.has(l))).toEqual([]);
    // the packages libc6, zlib1g and libstdc++6 are needed, and come from the runtime
    expect(shippedLibs).not.toContain('libc.so.6');
    expect(shippedLibs).not.toContain('libz.so.1');
    expect(shippedLibs).not.toContain('libstdc++.so.6');
  });

  it('holds no docs or man pages, and no symlink that points outside /opt', () => {
    expect(entries.filter((e) => /^share\/(doc|man|info|lintian)\//.test(e.name))).toEqual([]);
    const links = entries.filter((e) => e.kind === 'symlink');
    expect(links.length).toBeGreaterThan(10);
    for (const l of links) {
      expect(l.target!.startsWith('/')).toBe(false);
      const resolved = path.posix.normalize(path.posix.join('/opt', path.posix.dirname(l.name), l.target!));
      expect(resolved.startsWith('/opt/')).toBe(true);
      expect(existsSync(path.join(layerDir, resolved.slice('/opt/'.length)))).toBe(true);
    }
  });

  it('is byte-identical when built twice', () => {
    expect(readFileSync(zipA).equals(readFileSync(zipB))).toBe(true);
  });

  it('writes the same layer as a directory with --out-dir', async () => {
    const dir = path.join(work, 'as-dir');
    const r = await runYumda(['install', 'poppler-utils', '--target', 'debian12', '--out-dir', dir, '--quiet']);
    expect(r.code).toBe(0);
    const listed = (await run('find', ['.', '-mindepth', '1'], { cwd: dir })).stdout
      .split('\n')
      .filter(Boolean)
      .map((p) => p.slice(2) + (statSync(path.join(dir, p)).isDirectory() && !lstatSync(path.join(dir, p)).isSymbolicLink() ? '/' : ''))
      .sort();
    expect(listed).toEqual(entries.map((e) => e.name).sort());
    const link = entries.find((e) => e.kind === 'symlink' && e.name.startsWith('etc/fonts/conf.d/'))!;
    expect(readlinkSync(path.join(dir, link.name))).toBe(link.target);
  });

  it('refuses an unknown package in one line, writing nothing', async () => {
    const out = path.join(work, 'x.zip');
    const r = await runYumda(['install', 'no-such-package-xyz', '--target', 'debian12', '--out', out, '--quiet']);
    expect(r.code).not.toBe(0);
    // metadata from the cache (an earlier build here read it) adds that --refresh fetches it anew
    expect(r.stderr.trim().split('\n')).toEqual([
      expect.stringMatching(
        /^yumda: error: package 'no-such-package-xyz' was not found in the debian12 repositories($|; the repository metadata came from the cache \(fetched \d+ (s|min) ago\); --refresh fetches it anew)/,
      ),
    ]);
    expect(existsSync(out)).toBe(false);
  });
});
