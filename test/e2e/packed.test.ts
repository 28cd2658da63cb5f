import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { LayerManifest } from '../../src/format/layer-manifest.js';
import { loadRuntime } from '../../src/registry/load.js';
import { tempDir } from '../helpers/tmp.js';
import { repoRoot, runYumda } from '../helpers/cli.js';
import { ensureRuntimeImage, runLambdaLike } from '../helpers/lambda.js';
import { helveticaPdf } from '../helpers/pdf.js';
import { looksLikeRenderedText } from '../helpers/png.js';
import { readZip } from '../helpers/zip.js';

/**
 * `--pack` end to end on a small real layer (issue 14): poppler-utils built packed for debian12
 * against a runtime manifest without tar (as provided.al2023 has neither tar nor zstd), so the
 * layer ships both. Run Lambda-like: read-only, uid 993, no network, /tmp a sized tmpfs, only
 * Lambda's PATH and LD_LIBRARY_PATH. The big layers (Chromium, LibreOffice) are in self-contained.test.ts.
 */
describe('a packed layer: poppler-utils --pack (debian12, runtime without tar)', () => {
  const work = tempDir('yumda-packed-');
  const layerDir = path.join(work, 'layer');
  const zip = path.join(work, 'poppler-packed.zip');
  const inputs = path.join(work, 'in');
  let image: string;
  let manifest: LayerManifest;
  let json: { output: { unzippedBytes: number }; packed: { unpackMsMeasured: number; tmpMb: number; programs: string[] } };
  let summary: string;
  /** The one build every test here is about, and its rebuild. */
  const flags = ['poppler-utils', '--target', 'debian12', '--pack', '--runtime-manifest', path.join(work, 'runtime-without-tar.json')];

  beforeAll(async () => {
    chmodSync(work, 0o755);
    const rt = JSON.parse(readFileSync(path.join(repoRoot, 'registry/runtimes/debian12.json'), 'utf8'));
    rt.$schema = path.join(repoRoot, 'schema/runtime.schema.json');
    rt.packages = rt.packages.filter((p: { name: string }) => p.name !== 'tar');
    writeFileSync(path.join(work, 'runtime-without-tar.json'), JSON.stringify(rt));
    const r = await runYumda(['install', ...flags, '--out-dir', layerDir, '--json']);
    expect(r.code, r.stderr).toBe(0);
    json = JSON.parse(r.stdout);
    manifest = JSON.parse(readFileSync(path.join(layerDir, '.yumda/manifest.json'), 'utf8'));
    const z = await runYumda(['install', ...flags, '--out', zip]);
    expect(z.code, z.stderr).toBe(0);
    summary = z.stdout + z.stderr;
    mkdirSync(inputs);
    writeFileSync(path.join(inputs, 'hello.pdf'), helveticaPdf('Hello Packed Layer'));
    chmodSync(inputs, 0o755);
    const runtime = loadRuntime('debian12');
    image = await ensureRuntimeImage(runtime.verifyImage!.name, runtime.verifyImage!.context);
  });

  it('is an archive, the tools, launchers and yumda files: nothing of the tree in /opt/lib or /opt/share', async () => {
    expect(readdirSync(layerDir).sort()).toEqual(['.yumda', 'bin']);
    expect(readdirSync(path.join(layerDir, '.yumda/bin')).sort()).toEqual(['tar', 'zstd']);
    expect(manifest.packed).toMatchObject({
      archive: '/opt/.yumda/pack/tree.tar.zst',
      compression: { format: 'zstd', level: 9, windowLog: 27 },
      tools: { tar: '/opt/.yumda/bin/tar', zstd: '/opt/.yumda/bin/zstd' },
      links: expect.arrayContaining(['bin', 'etc', 'lib', 'share']),
    });
    expect(manifest.packed!.unpackDir).toMatch(/^\/tmp\/yumda-pack-[0-9a-f]{12}$/);
    expect(manifest.packed!.programs).toEqual(expect.arrayContaining(['pdftoppm', 'pdftotext']));
    expect(manifest.packed!.packedBytes).toBe(readFileSync(path.join(layerDir, '.yumda/pack/tree.tar.zst')).length);
    expect(manifest.packed!.packedBytes).toBeLessThan(manifest.packed!.treeBytes / 2);
    // packages count the files inside the archive
    expect(manifest.packages.find((p) => p.name === 'libpoppler126')!.bytes).toBeGreaterThan(1_000_000);
    expect(manifest.env).toEqual({ FONTCONFIG_PATH: '/tmp/etc/fonts' });
    const launcher = readFileSync(path.join(layerDir, 'bin/pdftoppm'), 'utf8');
    expect(launcher).toMatch(/^#!\/bin\/bash\n# Written by yumda: the launcher of pdftoppm in a packed layer/);
    // the zip holds the same
    const names = (await readZip(zip)).map((e) => e.name);
    expect(names).toEqual(expect.arrayContaining(['.yumda/pack/tree.tar.zst', '.yumda/bin/tar', '.yumda/bin/zstd', 'bin/pdftoppm', '.yumda/exec-wrapper']));
    expect(names.filter((n) => n.startsWith('lib/') || n.startsWith('share/'))).toEqual([]);
  });

  it('reports packed size, unpacked size, /tmp needed and the unpack time measured here', () => {
    expect(summary).toMatch(
      /packed: [\d.]+ MiB archive \(zstd -9\) of a [\d.]+ MiB tree; unpacked it takes \d+ MB of \/tmp: set the function's ephemeral storage to at least 512 MB/,
    );
    expect(summary).toMatch(
      /the first call in an execution environment unpacks it into \/tmp\/yumda-pack-[0-9a-f]{12} \([\d.]+ s measured on this machine, in the build container\)/,
    );
    // poppler's tree is far below Lambda's limit: packing it was not needed, and the summary says so (issue 22)
    expect(summary).toMatch(/\n {2}note: packing is not needed: the tree is [\d.]+ MiB \([\d.]+% of Lambda's 250 MB limit\) and fits unpacked/);
    expect(json.packed.tmpMb).toBe(manifest.packed!.tmpMb);
    expect(json.packed.unpackMsMeasured).toBeGreaterThan(0);
    expect(json.output.unzippedBytes).toBeLessThan(manifest.packed!.treeBytes);
  });

  it('inspect reports the same', async () => {
    const r = await runYumda(['inspect', zip]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/packed: [\d.]+ MiB archive \(zstd -9\) of a [\d.]+ MiB tree; unpacked it takes \d+ MB of \/tmp/);
  });

  it('renders and extracts text Lambda-like: the first call unpacks (with the shipped tar and zstd), the second only execs', async () => {
    const script = `
      t0=$(date +%s%N); pdftoppm -png -r 72 /work/hello.pdf /tmp/page; rc1=$?
      t1=$(date +%s%N); pdftotext /work/hello.pdf /tmp/text; rc2=$?
      t2=$(date +%s%N)
      head -1 /tmp/text; echo "rc $rc1 $rc2"; echo "ms $(( (t1 - t0) / 1000000 )) $(( (t2 - t1) / 1000000 ))"
      base64 -w0 /tmp/page-1.png; echo; ls -A /tmp | tr '\\n' ' '`;
    const tmpMb = manifest.packed!.tmpMb + 16;
    const r = await runLambdaLike(image, layerDir, script, { work: inputs, tmpMb, shell: '/bin/bash' });
    expect(r.stderr).toBe('');
    const [text, rc, ms, png, tmp] = r.stdout.split('\n');
    expect(text!.trim()).toBe('Hello Packed Layer');
    expect(rc).toBe('rc 0 0');
    const [first, second] = ms!.split(' ').slice(1).map(Number);
    console.log(`packed poppler-utils: first call ${first} ms (unpacks ${manifest.packed!.tmpMb} MB), second ${second} ms (this machine)`);
    const look = looksLikeRenderedText(png!);
    expect(look.ok, JSON.stringify(look)).toBe(true);
    const unpack = path.posix.basename(manifest.packed!.unpackDir);
    // the tree, its links, the outputs, fontconfig's cache (/var/cache moved to /tmp); no lock or partial tree
    const inTmp = tmp!.trim().split(' ');
    expect(inTmp).toEqual(expect.arrayContaining([...manifest.packed!.links, 'page-1.png', 'text', unpack]));
    expect(inTmp.filter((n) => n.startsWith(unpack) && n !== unpack)).toEqual([]);
  });

  it('runs without LD_LIBRARY_PATH too, and a program of the tree reaches another through the launcher on PATH', async () => {
    const r = await runLambdaLike(image, layerDir, 'pdftotext /work/hello.pdf - && readlink /tmp/lib', { work: inputs, ldLibraryPath: null, tmpMb: manifest.packed!.tmpMb + 16 });
    expect(r.stderr).toBe('');
    expect(r.stdout).toMatch(new RegExp(`^Hello Packed Layer\\n\\s*\\f${path.posix.basename(manifest.packed!.unpackDir)}/lib\\n$`));
  });

  it('the exec wrapper unpacks at init and gives in-process code the environment and the tree at /tmp', async () => {
    const script = '/opt/.yumda/exec-wrapper /bin/sh -c \'echo "$FONTCONFIG_PATH"; echo "$LD_LIBRARY_PATH"; /tmp/bin/pdftotext /work/hello.pdf -\'';
    const r = await runLambdaLike(image, layerDir, script, { work: inputs, tmpMb: manifest.packed!.tmpMb + 16 });
    expect(r.stderr).toBe('');
    expect(r.stdout.split('\n').slice(0, 3)).toEqual(['/tmp/etc/fonts', expect.stringMatching(/:\/opt\/lib:\/tmp\/lib$/), 'Hello Packed Layer']);
  });

  it('a /tmp too small: one line naming the ephemeral storage to set, exit 1, nothing left in /tmp', async () => {
    const small = Math.max(1, Math.floor(manifest.packed!.tmpMb / 2));
    const r = await runLambdaLike(image, layerDir, 'pdftotext /work/hello.pdf -; echo "rc $?"; ls -A /tmp', { work: inputs, tmpMb: small });
    expect(r.stdout).toBe('rc 1\n');
    expect(r.stderr).toMatch(
      new RegExp(`^yumda: pdftotext: /tmp has \\d+ MB free, unpacking needs ${manifest.packed!.tmpMb} MB: set the function's ephemeral storage to at least 512 MB\\n$`),
    );
  });

  it('verify runs the packed layer as Lambda would: the first call unpacks', async () => {
    const r = await runYumda(['verify', zip, '--run', 'pdftotext -v']);
    expect(r.code, r.stderr + r.stdout).toBe(0);
    expect(r.stdout).toMatch(
      /PASS unpack: first and second call {2}\(the first call unpacked \d+ MB into \/tmp\/yumda-pack-[0-9a-f]{12} in [\d.]+ s, the second took \d+ ms \(Lambda-like, \/tmp 512 MB, this machine\)\)/,
    );
    expect(r.stdout).toMatch(/PASS run: pdftotext -v/);
  });

  it('rebuilding reuses the compressed tree from the cache: same archive', async () => {
    const again = path.join(work, 'again');
    const r = await runYumda(['install', ...flags, '--out-dir', again, '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout).packed.reused).toBe(true);
    expect(readFileSync(path.join(again, '.yumda/pack/tree.tar.zst')).equals(readFileSync(path.join(layerDir, '.yumda/pack/tree.tar.zst')))).toBe(true);
    expect(existsSync(path.join(again, 'bin/pdftoppm'))).toBe(true);
  });
});
