import { chmodSync, copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkOutputs, checkReplaceable, type OutputKind, type OutputPolicy, type OutputTarget } from '../../src/emit/outputs.js';
import { writeLayerDir } from '../../src/emit/dir.js';
import { writeImage, type ImageSpec } from '../../src/emit/image.js';
import { writeLayerOutputs } from '../../src/emit/write.js';
import { writeLayerZip } from '../../src/emit/zip.js';
import { MANIFEST_PATH } from '../../src/format/layer-manifest.js';
import { formatLock } from '../../src/project/lock.js';
import { parseArch } from '../../src/registry/arch.js';
import type { CycloneDxBom } from '../../src/sbom/cyclonedx.js';
import { file, treeOf } from '../helpers/tree.js';
import { repoRoot, run, runYumda } from '../helpers/cli.js';
import { manifestOf } from '../helpers/layer.js';
import { INTERNAL_FILE, writeAtomically } from '../../src/util/atomic.js';
import type { FileTree } from '../../src/tree/types.js';
import { gated } from '../helpers/gated.js';
import { tempDir } from '../helpers/tmp.js';

/** A project directory with a manifest, a lock, a foreign directory, a previous layer and a sibling. */
function project(): string {
  const root = tempDir();
  const dir = path.join(root, 'proj');
  mkdirSync(path.join(dir, 'src'), { recursive: true });
  writeFileSync(path.join(dir, 'yumda.json'), '{}');
  writeFileSync(path.join(dir, 'yumda.lock'), '{}');
  writeFileSync(path.join(dir, 'src', 'main.c'), 'int main;');
  mkdirSync(path.join(dir, 'empty'));
  mkdirSync(path.join(dir, 'src.cdx.json'));
  mkdirSync(path.join(dir, 'old-layer', '.yumda'), { recursive: true });
  writeFileSync(path.join(dir, 'old-layer', '.yumda', 'manifest.json'), '{}');
  writeFileSync(path.join(dir, 'old-layer', 'stale'), 'x');
  mkdirSync(path.join(root, 'sibling'));
  writeFileSync(path.join(root, 'sibling', 'precious'), 'x');
  symlinkSync(path.join(root, 'sibling'), path.join(dir, 'link-out'));
  symlinkSync('/nonexistent/elsewhere', path.join(dir, 'dangling'));
  mkdirSync(path.join(dir, 'cached', 'cache'), { recursive: true });
  return dir;
}

const manifestPolicy = (dir: string): OutputPolicy => ({
  confineTo: dir,
  allowOutsideFlag: '--allow-outside',
  protect: [path.join(dir, 'yumda.json'), path.join(dir, 'yumda.lock')],
  createParents: true,
});

describe('checkOutputs: what an output may take the place of', () => {
  const cases: Array<[string, (d: string) => OutputTarget[], 'manifest' | 'cli' | 'cache', RegExp | null]> = [
    ['a zip where a directory is', (d) => [{ path: path.join(d, 'src'), kind: 'zip', what: '--out' }], 'cli', /--out: .*\/src is a directory; nothing written/],
    [
      'a layer dir over a directory yumda did not write',
      (d) => [{ path: path.join(d, 'src'), kind: 'dir', what: '--out-dir' }],
      'cli',
      /is a directory that yumda did not write \(1 entry, no \.yumda\/manifest\.json\)/,
    ],
    ['a layer dir over the current directory', (d) => [{ path: d, kind: 'dir', what: '--out-dir' }], 'cli', /did not write/],
    ['a layer dir over an empty directory', (d) => [{ path: path.join(d, 'empty'), kind: 'dir', what: '--out-dir' }], 'cli', null],
    ['a layer dir over a previous layer', (d) => [{ path: path.join(d, 'old-layer'), kind: 'dir', what: '--out-dir' }], 'cli', null],
    ['a layer dir over a file', (d) => [{ path: path.join(d, 'yumda.lock'), kind: 'dir', what: '--out-dir' }], 'cli', /exists and is not a directory/],
    ['a zip in a missing directory', (d) => [{ path: path.join(d, 'nope', 'x.zip'), kind: 'zip', what: '--out' }], 'cli', /--out: directory .*\/nope does not exist/],
    ['a zip under a file', (d) => [{ path: path.join(d, 'yumda.lock', 'x.zip'), kind: 'zip', what: '--out' }], 'cli', /yumda\.lock is not a directory/],
    ['manifest outputs.dir "."', (d) => [{ path: d, kind: 'dir', what: 'outputs.dir' }], 'manifest', /is the project directory itself; nothing written/],
    ['manifest outputs.dir "../sibling"', (d) => [{ path: path.join(d, '..', 'sibling'), kind: 'dir', what: 'outputs.dir' }], 'manifest', /outside the project/],
    ['manifest outputs.zip through a symlink out', (d) => [{ path: path.join(d, 'link-out', 'x.zip'), kind: 'zip', what: 'outputs.zip' }], 'manifest', /outside the project/],
    ['manifest outputs.zip absolute elsewhere', () => [{ path: '/tmp/elsewhere.zip', kind: 'zip', what: 'outputs.zip' }], 'manifest', /outside the project/],
    [
      'manifest outputs.dir "yumda.lock"',
      (d) => [{ path: path.join(d, 'yumda.lock'), kind: 'dir', what: 'outputs.dir' }],
      'manifest',
      /is yumda\.lock, which yumda must not overwrite/,
    ],
    [
      'manifest outputs.zip "yumda.json"',
      (d) => [{ path: path.join(d, 'yumda.json'), kind: 'zip', what: 'outputs.zip' }],
      'manifest',
      /is yumda\.json, which yumda must not overwrite/,
    ],
    [
      'a zip whose SBOM is another output',
      (d) => [
        { path: path.join(d, 'a.zip'), kind: 'zip', what: 'zip of a', withSbom: true },
        { path: path.join(d, 'a.cdx.json'), kind: 'zip', what: 'zip of b' },
      ],
      'manifest',
      /are the same path/,
    ],
    [
      'a zip inside a layer directory (the directory write would delete it)',
      (d) => [
        { path: path.join(d, 'old-layer', 'layer.zip'), kind: 'zip', what: 'outputs.zip', withSbom: true },
        { path: path.join(d, 'old-layer'), kind: 'dir', what: 'outputs.dir' },
      ],
      'manifest',
      /outputs\.zip \(.*old-layer\/layer\.zip\) is inside outputs\.dir/,
    ],
    [
      'one layer directory inside another',
      (d) => [
        { path: path.join(d, 'out'), kind: 'dir', what: 'dir of a' },
        { path: path.join(d, 'out', 'b'), kind: 'dir', what: 'dir of b' },
      ],
      'manifest',
      /dir of b \(.*\/out\/b\) is inside dir of a/,
    ],
    ['a zip not named .zip: its SBOM is checked too', (d) => [{ path: path.join(d, 'src'), kind: 'zip', what: '--out', withSbom: true }], 'cli', /is a directory/],
    ['under a dangling symlink', (d) => [{ path: path.join(d, 'dangling', 'x.zip'), kind: 'zip', what: 'outputs.zip' }], 'manifest', /dangling is a symlink to nothing/],
    ['a layer directory holding the cache', (d) => [{ path: path.join(d, 'cached'), kind: 'dir', what: '--out-dir' }], 'cache', /holds cache, which yumda must not overwrite/],
    [
      'a zip whose SBOM would replace a directory',
      (d) => [{ path: path.join(d, 'src.zip'), kind: 'zip', what: '--out', withSbom: true }],
      'cli',
      /--out \(its SBOM\): .*\/src\.cdx\.json is a directory/,
    ],
    ['manifest outputs in a new directory inside', (d) => [{ path: path.join(d, 'dist', 'x.zip'), kind: 'zip', what: 'outputs.zip' }], 'manifest', null],
  ];
  it.each(cases)('%s', async (_, targets, kind, refusal) => {
    const d = project();
    const check = checkOutputs(targets(d), kind === 'manifest' ? manifestPolicy(d) : kind === 'cache' ? { protect: [path.join(d, 'cached', 'cache')] } : {});
    if (refusal) await expect(check).rejects.toThrow(refusal);
    else await expect(check).resolves.toBeUndefined();
  });

  it('lets a trusted manifest write outside with the flag', async () => {
    const d = project();
    await expect(checkOutputs([{ path: path.join(d, '..', 'out.zip'), kind: 'zip', what: 'outputs.zip' }], { ...manifestPolicy(d), allowOutside: true })).resolves.toBeUndefined();
  });

  it('refuses a read-only parent in one line', async () => {
    if (process.getuid?.() === 0) {
      // root writes through mode bits: a read-only bind mount would be needed; the EROFS branch is
      // the same code path as EACCES
      return;
    }
    const d = project();
    chmodSync(path.join(d, 'empty'), 0o555);
    await expect(checkOutputs([{ path: path.join(d, 'empty', 'x.zip'), kind: 'zip', what: '--out' }])).rejects.toThrow(/cannot write in .* \(permission denied\)/);
  });
});

describe('writing over what exists', () => {
  const layer: FileTree = new Map([
    ['/opt/.yumda/manifest.json', { kind: 'file', path: '/opt/.yumda/manifest.json', mode: 0o644, size: 2, content: { kind: 'bytes', data: Buffer.from('{}') } }],
  ]);

  it('never removes a directory in the place of a file (the old helper moved it aside and deleted it)', async () => {
    const d = project();
    await expect(writeAtomically(path.join(d, 'src'), async (tmp) => writeFileSync(tmp, 'zip'), INTERNAL_FILE)).rejects.toThrow(/is a directory; nothing written/);
    expect(readFileSync(path.join(d, 'src', 'main.c'), 'utf8')).toBe('int main;');
    expect(readdirSync(d).filter((n) => n.includes('.tmp'))).toEqual([]);
  });

  it('replaces a previous layer directory, and refuses a foreign one that appeared during the build', async () => {
    const d = project();
    await writeLayerDir(layer, path.join(d, 'old-layer'));
    expect(existsSync(path.join(d, 'old-layer', 'stale'))).toBe(false);
    await expect(writeLayerDir(layer, path.join(d, 'src'))).rejects.toThrow(/that yumda did not write/);
    expect(readFileSync(path.join(d, 'src', 'main.c'), 'utf8')).toBe('int main;');
    expect(readdirSync(d).filter((n) => n.includes('.tmp'))).toEqual([]);
  });
});

describe('what an output may replace: only what yumda wrote, unless --force (issue 19, item 6)', () => {
  const manifestFile = file(MANIFEST_PATH, JSON.stringify(manifestOf({})));
  const spec: ImageSpec = { arch: parseArch('x86_64'), labels: {} };

  /** One file of each kind yumda writes, each a foreign file of every other kind. */
  async function samples(d: string): Promise<Record<Exclude<OutputKind, 'dir'>, string>> {
    const zip = path.join(d, 'layer.zip');
    await writeLayerZip(treeOf([manifestFile, file('/opt/bin/x', 'x', 0o755)]), zip);
    const image = path.join(d, 'image.tar');
    await writeImage(gated(treeOf([file('/opt/bin/x', 'x', 0o755)])), spec, 'oci', image, '0.1.0');
    const sbom = path.join(d, 'layer.cdx.json');
    writeFileSync(
      sbom,
      JSON.stringify({ bomFormat: 'CycloneDX', specVersion: '1.5', metadata: { tools: { components: [{ type: 'application', name: 'yumda', version: '0.1.0' }] } } }),
    );
    const lock = path.join(d, 'yumda.lock');
    writeFileSync(lock, formatLock({ lockfileVersion: 1, layers: [] }));
    const runtime = path.join(d, 'runtime.json');
    copyFileSync(path.join(repoRoot, 'registry/runtimes/debian12.json'), runtime);
    return { zip, image, sbom, lock, runtime };
  }

  const kinds = ['zip', 'image', 'sbom', 'lock', 'runtime'] as const;

  it.each(kinds)('a %s yumda wrote is replaced; every other file is refused in one line, and replaced with --force', async (kind) => {
    const d = tempDir();
    const own = await samples(d);
    const foreign = path.join(d, 'package.json');
    writeFileSync(foreign, '{"name":"mine"}');
    const tarball = path.join(d, 'other.tar');
    expect((await run('tar', ['-cf', tarball, '-C', d, 'package.json'])).code).toBe(0);
    const others = [foreign, tarball, ...kinds.filter((k) => k !== kind).map((k) => own[k])];
    await expect(checkReplaceable({ path: own[kind], kind, what: '--out' })).resolves.toBeUndefined();
    for (const other of others) {
      await expect(checkReplaceable({ path: other, kind, what: '--out' }, { forceFlag: '--force' }), other).rejects.toThrow(
        new RegExp(`^--out: ${other} exists and is not an? [A-Za-z ]+ yumda wrote \\(.+\\); nothing written$`),
      );
      await expect(checkReplaceable({ path: other, kind, what: '--out' }, { force: true, forceFlag: '--force' })).resolves.toBeUndefined();
    }
  });

  it('refuses to replace a symlink (the link, whatever it points at) unless --force, and a directory even with it', async () => {
    const d = tempDir();
    const own = await samples(d);
    symlinkSync(own.zip, path.join(d, 'link.zip'));
    const t = { path: path.join(d, 'link.zip'), kind: 'zip' as const, what: '--out' };
    await expect(checkReplaceable(t, { forceFlag: '--force' })).rejects.toThrow(
      /^--out: .*link\.zip is a symlink \(to .*layer\.zip\); yumda replaces a file it wrote, not a link; nothing written$/,
    );
    await expect(checkReplaceable(t, { force: true })).resolves.toBeUndefined();
    await expect(checkReplaceable({ ...t, path: d }, { force: true })).rejects.toThrow(/is a directory; nothing written/);
  });

  it('install --out package.json: refused before any work, the file and its neighbours untouched; the hint names --force', async () => {
    const d = tempDir();
    writeFileSync(path.join(d, 'package.json'), '{"name":"mine"}');
    symlinkSync('package.json', path.join(d, 'link.zip'));
    for (const out of ['package.json', 'link.zip']) {
      // an engine that cannot answer: the refusal must come before anything needs one
      const r = await runYumda(['install', 'jq', '--target', 'debian12', '--out', out], { cwd: d, env: { DOCKER_HOST: 'unix:///nonexistent.sock' } });
      expect([r.code, r.stderr.trim().split('\n')]).toEqual([
        1,
        [expect.stringMatching(new RegExp(`^yumda: error: --out: ${d}/${out} .*; nothing written; pass --force to replace it`))],
      ]);
    }
    expect(readFileSync(path.join(d, 'package.json'), 'utf8')).toBe('{"name":"mine"}');
    expect(readdirSync(d).sort()).toEqual(['link.zip', 'package.json']);
  });

  it('image --oci over a foreign file, runtime refresh --out over one: refused the same way', async () => {
    const d = tempDir();
    const own = await samples(d);
    writeFileSync(path.join(d, 'notes.txt'), 'mine');
    const image = await runYumda(['image', '--layer', own.zip, '--oci', 'notes.txt'], { cwd: d });
    expect(image.stderr.trim().split('\n')).toEqual([expect.stringMatching(/^yumda: error: --oci: .*notes\.txt exists and is not an image tarball yumda wrote .*pass --force/)]);
    expect((await runYumda(['image', '--layer', own.zip, '--oci', own.image], { cwd: d })).code).toBe(0);
    const refresh = await runYumda(['runtime', 'refresh', 'no-such-image', '--runtime', 'debian12', '--out', 'notes.txt'], {
      cwd: d,
      env: { DOCKER_HOST: 'unix:///nonexistent.sock' },
    });
    expect(refresh.stderr.trim().split('\n')).toEqual([expect.stringMatching(/^yumda: error: --out: .*notes\.txt exists and is not a runtime manifest yumda wrote/)]);
    expect(readFileSync(path.join(d, 'notes.txt'), 'utf8')).toBe('mine');
  });

  it('a foreign file that appears at the output during the build is refused at the rename, with its SBOM', async () => {
    const d = tempDir();
    const dest = path.join(d, 'package.json');
    writeFileSync(dest, '{"name":"mine"}');
    const sbom = { bomFormat: 'CycloneDX' } as unknown as CycloneDxBom;
    await expect(writeLayerOutputs(gated(treeOf([manifestFile])), sbom, { zip: dest }, { cacheDir: undefined, warn: () => undefined })).rejects.toThrow(
      /--out: .*package\.json exists and is not a layer zip yumda wrote/,
    );
    expect(readFileSync(dest, 'utf8')).toBe('{"name":"mine"}');
    expect(readdirSync(d)).toEqual(['package.json']);
  });

  it('--out / (any existing directory) is said to be a directory, not that its SBOM is inside it (item 15)', async () => {
    for (const dir of ['/', tempDir()]) {
      await expect(checkOutputs([{ path: dir, kind: 'zip', what: '--out', withSbom: true }])).rejects.toThrow(
        new RegExp(`^--out: ${dir.replace(/\/$/, '')}/? is a directory; nothing written$`),
      );
    }
  });
});
