import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkOutputs, type OutputPolicy, type OutputTarget } from '../../src/emit/outputs.js';
import { writeLayerDir } from '../../src/emit/dir.js';
import { writeAtomically } from '../../src/util/atomic.js';
import type { FileTree } from '../../src/tree/types.js';
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
    ['a zip where a directory is', (d) => [{ path: path.join(d, 'src'), kind: 'file', what: '--out' }], 'cli', /--out: .*\/src is a directory; nothing written/],
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
    ['a zip in a missing directory', (d) => [{ path: path.join(d, 'nope', 'x.zip'), kind: 'file', what: '--out' }], 'cli', /--out: directory .*\/nope does not exist/],
    ['a zip under a file', (d) => [{ path: path.join(d, 'yumda.lock', 'x.zip'), kind: 'file', what: '--out' }], 'cli', /yumda\.lock is not a directory/],
    ['manifest outputs.dir "."', (d) => [{ path: d, kind: 'dir', what: 'outputs.dir' }], 'manifest', /is the project directory itself; nothing written/],
    ['manifest outputs.dir "../sibling"', (d) => [{ path: path.join(d, '..', 'sibling'), kind: 'dir', what: 'outputs.dir' }], 'manifest', /outside the project/],
    ['manifest outputs.zip through a symlink out', (d) => [{ path: path.join(d, 'link-out', 'x.zip'), kind: 'file', what: 'outputs.zip' }], 'manifest', /outside the project/],
    ['manifest outputs.zip absolute elsewhere', () => [{ path: '/tmp/elsewhere.zip', kind: 'file', what: 'outputs.zip' }], 'manifest', /outside the project/],
    [
      'manifest outputs.dir "yumda.lock"',
      (d) => [{ path: path.join(d, 'yumda.lock'), kind: 'dir', what: 'outputs.dir' }],
      'manifest',
      /is yumda\.lock, which yumda must not overwrite/,
    ],
    [
      'manifest outputs.zip "yumda.json"',
      (d) => [{ path: path.join(d, 'yumda.json'), kind: 'file', what: 'outputs.zip' }],
      'manifest',
      /is yumda\.json, which yumda must not overwrite/,
    ],
    [
      'a zip whose SBOM is another output',
      (d) => [
        { path: path.join(d, 'a.zip'), kind: 'file', what: 'zip of a', withSbom: true },
        { path: path.join(d, 'a.cdx.json'), kind: 'file', what: 'zip of b' },
      ],
      'manifest',
      /are the same path/,
    ],
    [
      'a zip inside a layer directory (the directory write would delete it)',
      (d) => [
        { path: path.join(d, 'old-layer', 'layer.zip'), kind: 'file', what: 'outputs.zip', withSbom: true },
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
    ['a zip not named .zip: its SBOM is checked too', (d) => [{ path: path.join(d, 'src'), kind: 'file', what: '--out', withSbom: true }], 'cli', /is a directory/],
    ['under a dangling symlink', (d) => [{ path: path.join(d, 'dangling', 'x.zip'), kind: 'file', what: 'outputs.zip' }], 'manifest', /dangling is a symlink to nothing/],
    ['a layer directory holding the cache', (d) => [{ path: path.join(d, 'cached'), kind: 'dir', what: '--out-dir' }], 'cache', /holds cache, which yumda must not overwrite/],
    [
      'a zip whose SBOM would replace a directory',
      (d) => [{ path: path.join(d, 'src.zip'), kind: 'file', what: '--out', withSbom: true }],
      'cli',
      /--out \(its SBOM\): .*\/src\.cdx\.json is a directory/,
    ],
    ['manifest outputs in a new directory inside', (d) => [{ path: path.join(d, 'dist', 'x.zip'), kind: 'file', what: 'outputs.zip' }], 'manifest', null],
  ];
  it.each(cases)('%s', (_, targets, kind, refusal) => {
    const d = project();
    const check = () => checkOutputs(targets(d), kind === 'manifest' ? manifestPolicy(d) : kind === 'cache' ? { protect: [path.join(d, 'cached', 'cache')] } : {});
    if (refusal) expect(check).toThrow(refusal);
    else expect(check).not.toThrow();
  });

  it('lets a trusted manifest write outside with the flag', () => {
    const d = project();
    expect(() => checkOutputs([{ path: path.join(d, '..', 'out.zip'), kind: 'file', what: 'outputs.zip' }], { ...manifestPolicy(d), allowOutside: true })).not.toThrow();
  });

  it('refuses a read-only parent in one line', () => {
    if (process.getuid?.() === 0) {
      // root writes through mode bits: a read-only bind mount would be needed; the EROFS branch is
      // the same code path as EACCES
      return;
    }
    const d = project();
    chmodSync(path.join(d, 'empty'), 0o555);
    expect(() => checkOutputs([{ path: path.join(d, 'empty', 'x.zip'), kind: 'file', what: '--out' }])).toThrow(/cannot write in .* \(permission denied\)/);
  });
});

describe('writing over what exists', () => {
  const layer: FileTree = new Map([
    ['/opt/.yumda/manifest.json', { kind: 'file', path: '/opt/.yumda/manifest.json', mode: 0o644, size: 2, content: { kind: 'bytes', data: Buffer.from('{}') } }],
  ]);

  it('never removes a directory in the place of a file (the old helper moved it aside and deleted it)', async () => {
    const d = project();
    await expect(writeAtomically(path.join(d, 'src'), async (tmp) => writeFileSync(tmp, 'zip'))).rejects.toThrow(/is a directory; nothing written/);
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
