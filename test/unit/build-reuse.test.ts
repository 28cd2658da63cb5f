import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ContentStore } from '../../src/cache/content-store.js';
import { cleanCache } from '../../src/cache/info.js';
import { cachePaths } from '../../src/cache/paths.js';
import { JsonStore } from '../../src/cache/json-store.js';
import type { CachedTree } from '../../src/cache/trees.js';
import { emptyReport } from '../../src/relocate/relocate.js';
import { DEFAULT_KEEP } from '../../src/relocate/placement.js';
import { parseArch } from '../../src/registry/arch.js';
import { aboutTheLayer, BuildRecords, buildKey, reusable, type BuildOutcome } from '../../src/pipeline/reuse.js';
import type { BuildInputs } from '../../src/pipeline/inputs.js';
import type { BuildSpec } from '../../src/pipeline/spec.js';
import type { CachedPlan } from '../../src/pipeline/steps.js';
import { readContent } from '../../src/tree/types.js';
import { dir, file, symlink, treeOf } from '../helpers/tree.js';
import { tempDir } from '../helpers/tmp.js';

const spec: BuildSpec = { packages: [{ name: 'jq' }], target: 'debian12', arch: parseArch('x86_64'), repos: [], keep: DEFAULT_KEEP, recipeDirs: [] };
const inputs = {
  deployTarget: { id: 'debian12' },
  target: { id: 'debian12' },
  deployRuntime: { id: 'r' },
  runtime: { id: 'r' },
  recipes: [],
  unusableGroups: [],
  repositories: [],
} as unknown as BuildInputs;
const resolved = {
  plan: { packages: [{ name: 'jq', version: '1.6-2.1' }] },
  requests: [{ name: 'jq' }],
  imageIdentity: { id: 'sha256:aaa', repoDigests: [] },
} as unknown as CachedPlan;

describe('which builds are kept and reused', () => {
  it.each<[string, BuildSpec, string | undefined, boolean]>([
    ['a bundled yumda, a zip or directory', spec, 'code', true],
    ['yumda unbundled (dist/src, the test runner): no digest of its code', spec, undefined, false],
    ['a packed layer: its archive has a cache of its own', { ...spec, pack: true }, 'code', false],
    ['a --local build: it stages what this machine has', { ...spec, local: true }, 'code', false],
  ])('%s', (_name, s, code, expected) => {
    expect(reusable(s, code)).toBe(expected);
  });
});

describe('the key of a finished build', () => {
  const base = buildKey('code', spec, inputs, resolved);

  it.each<[string, string]>([
    ['other code', buildKey('other', spec, inputs, resolved)],
    ['another package requested', buildKey('code', { ...spec, packages: [{ name: 'jq' }, { name: 'file' }] }, inputs, resolved)],
    ['arm64', buildKey('code', { ...spec, arch: parseArch('arm64') }, inputs, resolved)],
    ['--keep-docs', buildKey('code', { ...spec, keep: { ...DEFAULT_KEEP, docs: true } }, inputs, resolved)],
    ['--no-scripts', buildKey('code', { ...spec, scripts: false }, inputs, resolved)],
    ['--keep-unusable', buildKey('code', { ...spec, keepUnusable: ['all'] }, inputs, resolved)],
    ['another layer name (the SBOM says it)', buildKey('code', { ...spec, name: 'tools' }, inputs, resolved)],
    ['--from', buildKey('code', { ...spec, from: 'debian13' }, inputs, resolved)],
    ['an image instead of a layer', buildKey('code', { ...spec, output: 'image' }, inputs, resolved)],
    ['a field added to BuildSpec later', buildKey('code', { ...spec, ...({ somethingNew: 1 } as object) }, inputs, resolved)],
    ['a recipe changed', buildKey('code', spec, { ...inputs, recipes: [{ name: 'x' }] } as unknown as BuildInputs, resolved)],
    ['another runtime manifest', buildKey('code', spec, { ...inputs, deployRuntime: { id: 'r2' } } as unknown as BuildInputs, resolved)],
    ['another version resolved', buildKey('code', spec, inputs, { ...resolved, plan: { packages: [{ name: 'jq', version: '1.7' }] } } as unknown as CachedPlan)],
    ['another build image', buildKey('code', spec, inputs, { ...resolved, imageIdentity: { id: 'sha256:bbb', repoDigests: [] } })],
  ])('changes with %s', (_name, key) => {
    expect(key).not.toBe(base);
  });

  it.each<[string, Partial<BuildSpec>]>([
    ['the cache directory', { cacheDir: '/elsewhere' }],
    ['the network of the build containers', { network: 'host' }],
    ['--refresh (the plan in the key says what came of it)', { refresh: true }],
    ['--frozen (checked before)', { frozen: { locked: {} as never, label: 'x' } }],
  ])('does not change with %s', (_name, change) => {
    expect(buildKey('code', { ...spec, ...change }, inputs, resolved)).toBe(base);
  });
});

describe('finished builds in the cache', () => {
  const outcome = (): BuildOutcome => ({
    report: { ...emptyReport(), env: { MAGIC: '/opt/share/misc/magic' }, rewritten: [{ file: '/opt/bin/x', from: '/usr', to: '/opt' }] },
    manifest: { schemaVersion: 1 } as unknown as BuildOutcome['manifest'],
    sbom: { bomFormat: 'CycloneDX' } as unknown as BuildOutcome['sbom'],
    unusable: [],
    missing: [{ file: '/opt/bin/x', soname: 'libz.so.1', candidate: 'zlib1g' }] as BuildOutcome['missing'],
    versions: [],
    cLibrary: [],
    elfChecked: 2,
    licenses: new Map([['jq', { declared: ['MIT'], spdx: 'MIT', source: 'dep5' as const }]]),
    scripts: { reused: false, generated: [], leftOut: [], normalised: [], failed: [], notes: ['a note'], keptState: [], layerPaths: new Map([['/etc/x', '/opt/etc/x']]) },
    warnings: ['left out /opt/lib/plugin.so: it needs libX11.so.6'],
  });
  const layer = () =>
    treeOf([
      dir('/opt/bin'),
      file('/opt/bin/jq', Buffer.from('\x7fELF jq'), 0o755, 'jq'),
      file('/opt/lib/libjq.so.1', 'library', 0o644, 'libjq1'),
      symlink('/opt/lib/libjq.so', 'libjq.so.1', 'libjq1'),
      file('/opt/.yumda/manifest.json', '{}'),
    ]);

  function records() {
    const paths = cachePaths(tempDir());
    const store = new ContentStore(paths.content);
    const warned: string[] = [];
    return { paths, store, warned, open: () => new BuildRecords(paths, new ContentStore(paths.content), (l) => warned.push(l)) };
  }

  it('gives back the layer (entries, modes, packages, bytes) and everything the build said', () => {
    const r = records();
    r.open().put('k', layer(), outcome());
    const hit = r.open().get('k')!;
    expect(hit).toBeDefined();
    const want = layer();
    expect([...hit.layer.keys()]).toEqual([...want.keys()]);
    for (const [p, e] of want) {
      const got = hit.layer.get(p)!;
      expect({ ...got, content: undefined }).toEqual({ ...e, content: undefined });
      if (e.kind === 'file' && got.kind === 'file') expect(readContent(got.content).equals(readContent(e.content))).toBe(true);
    }
    expect(hit.outcome).toEqual(outcome());
    expect(r.warned).toEqual([]);
  });

  it('a key never put is a miss, without a word', () => {
    const r = records();
    expect(r.open().get('nothing')).toBeUndefined();
    expect(r.warned).toEqual([]);
  });

  it('a layer file whose bytes changed in the store: a miss, one warning, and the damaged copy dropped', () => {
    const r = records();
    r.open().put('k', layer(), outcome());
    const stored = readdirSync(r.paths.content, { recursive: true, withFileTypes: true }).filter((d) => d.isFile());
    const lib = stored.find((d) => readFileSync(path.join(d.parentPath, d.name), 'utf8') === 'library')!;
    writeFileSync(path.join(lib.parentPath, lib.name), 'librarY');
    expect(r.open().get('k')).toBeUndefined();
    expect(r.warned).toEqual([
      expect.stringMatching(/^cache: \/opt\/lib\/libjq\.so\.1 in the cached finished build \(.*\) is damaged \(its sha256 is .*\): dropped, building the layer again$/),
    ]);
  });

  it('a sealed record whose note is not JSON: a miss, one warning, and the record dropped', () => {
    const r = records();
    const store = new JsonStore<CachedTree>(path.join(r.paths.zips, 'builds'), 'cache-tree');
    store.put('k', { entries: [], note: '{not json' });
    expect(r.open().get('k')).toBeUndefined();
    expect(r.warned).toEqual([expect.stringMatching(/^cache: the cached finished build \(.*k\.json\) is damaged \(its note is not JSON\): dropped, building the layer again$/)]);
    expect(store.get('k')).toBeUndefined();
  });

  it('`cache clean --only zips` drops them with the zips', async () => {
    const r = records();
    r.open().put('k', layer(), outcome());
    await cleanCache(r.paths, ['zips']);
    expect(r.open().get('k')).toBeUndefined();
  });

  it.each<[string, boolean]>([
    ['left out /opt/lib/x.so: it needs libX11.so.6', true],
    ['a maintainer script of foo failed (exit 1)', true],
    ['cache: the cached resolved plan (x.json) is damaged (not valid JSON): dropped, resolving again', false],
  ])('%s: said again when reused: %s', (line, again) => {
    expect(aboutTheLayer(line)).toBe(again);
  });
});
