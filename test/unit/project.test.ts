import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { errorReport } from '../../src/util/errors.js';
import { describe, expect, it } from 'vitest';
import { loadProject, parseManifestText } from '../../src/project/manifest.js';
import {
  comparePlan,
  formatLock,
  frozenMismatches,
  layerRuntime,
  lockChanges,
  lockedLayer,
  lockedRequests,
  mergedLock,
  readLock,
  requestDifferences,
  requireLockedPlan,
  type LockedLayer,
} from '../../src/project/lock.js';
import { runtimeFile } from '../../src/registry/load.js';
import { sha256 } from '../../src/util/hash.js';
import { parseArch } from '../../src/registry/arch.js';
import { pickUpstream } from '../../src/resolve/constraints.js';
import { parseMadison, pinPreferences } from '../../src/backends/apt/resolve.js';
import type { Plan, PlannedPackage } from '../../src/resolve/plan.js';
import { tempDir } from '../helpers/tmp.js';
import { runYumda } from '../helpers/cli.js';

function write(dir: string, name: string, text: string): string {
  const f = path.join(dir, name);
  writeFileSync(f, text);
  return f;
}

const YAML = `# two layers
layers:
  - name: poppler
    target: debian12
    packages: [poppler-utils]
  - name: tools
    target: debian12
    arch: [x86_64, arm64]
    packages:
      - jq=1.6-2.1+deb12u3
      - name: file
        upstream: ^5.44
    outputs: { zip: "out/{name}-{target}-{arch}.zip" }
`;

describe('project manifest', () => {
  it('reads YAML and JSON alike, one job per layer and architecture', () => {
    const d = tempDir();
    const yaml = loadProject(write(d, 'yumda.yaml', YAML));
    const json = loadProject(write(tempDir(), 'yumda.json', JSON.stringify(parseManifestText(YAML, 'x.yaml'))));
    for (const m of [yaml, json]) {
      expect(m.jobs.map((j) => `${j.name}/${j.arch.lambda}`)).toEqual(['poppler/x86_64', 'tools/x86_64', 'tools/arm64']);
      expect(m.jobs[1]!.packages).toEqual([
        { name: 'jq', version: '1.6-2.1+deb12u3' },
        { name: 'file', upstream: '^5.44' },
      ]);
    }
    expect(yaml.jobs[0]!.outputs).toEqual({ zip: path.join(d, 'dist/poppler-x86_64.zip') });
    expect(yaml.jobs[2]!.outputs).toEqual({ zip: path.join(d, 'out/tools-debian12-arm64.zip') });
  });

  it('names the file, the line, the field and what was expected', () => {
    const bad =
      (text: string, name = 'yumda.yaml') =>
      () =>
        parseManifestText(text, path.join('/x', name));
    expect(bad(YAML.replace('arch: [x86_64, arm64]', 'arch: mips'))).toThrow(`yumda.yaml:8:11: field 'layers.1.arch' must be one of "x86_64", "arm64", "amd64", "aarch64"`);
    expect(bad(YAML.replace('target: debian12\n    packages: [poppler-utils]', 'packages: [poppler-utils]'))).toThrow(
      `yumda.yaml:3:5: in 'layers.0': missing required field 'target'`,
    );
    expect(bad(YAML.replace('outputs:', 'output:'))).toThrow(`yumda.yaml:6:5: in 'layers.1': unknown field 'output'`);
    expect(bad(YAML.replace('name: poppler', 'name: "pop pler"'))).toThrow(/^yumda\.yaml:3:11: field 'layers\.0\.name' must match pattern/);
    expect(bad('layers:\n  - name: a\n   target: x\n')).toThrow(/^yumda\.yaml:3:\d+: not valid YAML/);
    expect(bad('{"layers": []}', 'yumda.json')).toThrow(`yumda.json: field 'layers' must NOT have fewer than 1 items`);
    expect(bad('{"layers": [', 'yumda.json')).toThrow(/^yumda\.json: not valid JSON/);
  });

  it('names an unknown field as unknown, not the field it stands for as missing, with the nearest known one (issue 22)', () => {
    const bad = (text: string) => {
      try {
        parseManifestText(text, '/x/yumda.yaml');
      } catch (e) {
        return errorReport(e).trim();
      }
      throw new Error('parsed');
    };
    expect(bad('layers:\n  - name: jq\n    target: debian12\n    package: [jq]\n')).toBe(
      "yumda: error: yumda.yaml:2:5: in 'layers.0': unknown field 'package'; did you mean 'packages'?",
    );
    expect(bad('layrs:\n  - name: jq\n')).toBe("yumda: error: yumda.yaml:1:1: unknown field 'layrs'; did you mean 'layers'?");
    expect(bad('layers:\n  - name: jq\n    target: debian12\n    packages: [jq]\n    keep: { dcs: true }\n')).toBe(
      "yumda: error: yumda.yaml:5:11: in 'layers.0.keep': unknown field 'dcs'; did you mean 'docs'?",
    );
    // a field missing with nothing unknown beside it is still missing
    expect(bad('layers:\n  - name: jq\n    target: debian12\n')).toBe("yumda: error: yumda.yaml:2:5: in 'layers.0': missing required field 'packages'");
  });

  it("takes amd64 and aarch64 as the command line does, and builds under Lambda's names (issue 22)", () => {
    const d = tempDir();
    const jobs = (arch: string) => loadProject(write(d, 'yumda.yaml', `layers:\n  - name: jq\n    target: debian12\n    packages: [jq]\n    arch: ${arch}\n`)).jobs;
    expect(jobs('amd64').map((j) => j.arch.lambda)).toEqual(['x86_64']);
    expect(jobs('aarch64').map((j) => j.arch.lambda)).toEqual(['arm64']);
    const both = jobs('[amd64, aarch64]');
    expect(both.map((j) => j.arch.lambda)).toEqual(['x86_64', 'arm64']);
    expect(both[1]!.outputs.zip).toBe(path.join(d, 'dist/jq-arm64.zip'));
    expect(() => jobs('[x86_64, amd64]')).toThrow("yumda.yaml: field 'layers.0.arch.1': amd64 is x86_64, which the list already has");
  });

  it('checks what the schema cannot: targets, architectures, ranges, duplicates, colliding outputs', () => {
    const d = tempDir();
    const load = (text: string) => () => loadProject(write(d, 'yumda.yaml', text));
    expect(load(YAML.replace('target: debian12\n    packages: [poppler-utils]', 'target: centos5\n    packages: [poppler-utils]'))).toThrow(
      /^yumda\.yaml: field 'layers\.0\.target': unknown target 'centos5'/,
    );
    expect(load(YAML.replace('upstream: ^5.44', 'upstream: "five"'))).toThrow(`yumda.yaml: field 'layers.1.packages.1'.upstream: 'five' is not a semver range`);
    expect(load(YAML.replace('jq=1.6-2.1+deb12u3', 'jq;rm'))).toThrow(`yumda.yaml: field 'layers.1.packages.0': 'jq;rm' is not a package`);
    expect(load(YAML.replace('name: tools', 'name: poppler'))).toThrow(`yumda.yaml: field 'layers.1.name': layer name 'poppler' is used twice`);
    expect(load(YAML.replace('"out/{name}-{target}-{arch}.zip"', '"out/tools.zip"'))).toThrow(/field 'layers\.1\.outputs': out\/tools\.zip is also the output of tools \(x86_64\)/);
  });

  it('packs the layers that say "pack": true, and only those', () => {
    const d = tempDir();
    const text = YAML.replace('    outputs:', '    pack: true\n    outputs:');
    const m = loadProject(write(d, 'yumda.yaml', text));
    expect(m.jobs.map((j) => [j.name, j.pack])).toEqual([[m.jobs[0]!.name, false], ...m.jobs.slice(1).map((j) => [j.name, true])]);
    expect(m.jobs.length).toBeGreaterThan(1);
    expect(() => parseManifestText(text.replace('pack: true', 'pack: yes please'), '/x/yumda.yaml')).toThrow(/field 'layers\.1\.pack' must be boolean/);
  });

  it('runs the maintainer scripts of every layer but those that say "scripts": false', () => {
    const d = tempDir();
    const text = YAML.replace('    outputs:', '    scripts: false\n    outputs:');
    const m = loadProject(write(d, 'yumda.yaml', text));
    expect(m.jobs.map((j) => [j.name, j.scripts])).toEqual([[m.jobs[0]!.name, true], ...m.jobs.slice(1).map((j) => [j.name, false])]);
    expect(() => parseManifestText(text.replace('scripts: false', 'scripts: no thanks'), '/x/yumda.yaml')).toThrow(/field 'layers\.1\.scripts' must be boolean/);
  });

  it("takes a layer's own repositories only, and its own runtime manifest relative to the manifest", () => {
    const d = tempDir();
    mkdirSync(path.join(d, 'rt'));
    writeFileSync(path.join(d, 'rt/standin.json'), '{}');
    const text = YAML.replace('    outputs:', '    defaultRepos: false\n    repos: [http://127.0.0.1:8080/repo]\n    runtimeManifest: rt/standin.json\n    outputs:');
    const m = loadProject(write(d, 'yumda.yaml', text));
    expect(m.jobs[0]).toMatchObject({ defaultRepos: true, repos: [] });
    expect(m.jobs[0]!.runtimeManifest).toBeUndefined();
    expect(m.jobs[1]).toMatchObject({ defaultRepos: false, repos: ['http://127.0.0.1:8080/repo'], runtimeManifest: path.join(d, 'rt/standin.json') });
    const load = (t: string) => () => loadProject(write(d, 'yumda.yaml', t));
    expect(load(text.replace('rt/standin.json', 'rt/nope.json'))).toThrow(
      "yumda.yaml: field 'layers.1.runtimeManifest': rt/nope.json does not exist (the path is relative to yumda.yaml)",
    );
    expect(load(text.replace('    repos: [http://127.0.0.1:8080/repo]\n', ''))).toThrow(
      "yumda.yaml: field 'layers.1.defaultRepos': false leaves the layer no repository: list the ones to use in 'repos'",
    );
    expect(() => parseManifestText(text.replace('defaultRepos: false', 'defaultRepos: "no"'), '/x/yumda.yaml')).toThrow(
      /yumda\.yaml:\d+:\d+: field 'layers\.1\.defaultRepos' must be boolean/,
    );
  });

  it('yumda build without a manifest, or with a broken one, says so in one line', async () => {
    const d = tempDir();
    const none = await runYumda(['build'], { cwd: d });
    expect(none.code).toBe(1);
    expect(none.stderr.trim()).toMatch(/^yumda: error: no yumda\.json, yumda\.yaml, yumda\.yml in .*; write one \(see the README\), or pass --manifest FILE$/);
    write(d, 'yumda.yaml', YAML.replace('arch: [x86_64, arm64]', 'arch: [x86_64, mips]'));
    const broken = await runYumda(['build', '--frozen'], { cwd: d });
    expect(broken.stderr.trim().split('\n')).toEqual([`yumda: error: yumda.yaml:8:11: field 'layers.1.arch' must be one of "x86_64", "arm64", "amd64", "aarch64"`]);
    write(d, 'yumda.yaml', YAML);
    const nolock = await runYumda(['build', '--frozen'], { cwd: d });
    expect(nolock.stderr.trim()).toBe('yumda: error: --frozen needs yumda.lock beside yumda.yaml, and there is none; run `yumda update` (or `yumda build`) and commit the lock');
  });
});

const pkg = (name: string, version: string, extra: Partial<PlannedPackage> = {}): PlannedPackage => ({
  name,
  version,
  arch: 'amd64',
  downloadSize: 1,
  installedSize: 1,
  requiredBy: ['jq'],
  requested: name === 'jq',
  provides: [],
  depends: [],
  sourcePackage: name.replace(/\d+$/, ''),
  checksum: { algorithm: 'sha256', value: name.length.toString(16).padStart(64, 'a') },
  ...extra,
});

describe('lock file', () => {
  const job = { name: 'tools', target: 'debian12', arch: parseArch('x86_64'), packages: [{ name: 'jq' }, { name: 'file', upstream: '^5.44' }] };
  const repos = [{ id: 'debian', url: 'http://deb.debian.org/debian', suites: ['bookworm'], components: ['main'] }];
  const plan: Plan = { packages: [pkg('jq', '1.6-2.1'), pkg('libjq1', '1.6-2.1'), pkg('libonig5', '6.9.8-1')], fromRuntime: ['libc6'], skew: [] };
  const identity = { id: 'sha256:' + 'b'.repeat(64), repoDigests: [] };
  const runtime = { id: 'debian12', sha256: 'd'.repeat(64) };
  const locked: LockedLayer = lockedLayer({ job, repositories: repos, runtime, image: 'yumda/build-debian12:abc', identity, plan });

  it('records versions, architectures, checksums, source packages and the build image, sorted', () => {
    expect(locked.requested).toEqual([{ name: 'file', upstream: '^5.44' }, { name: 'jq' }]);
    expect(locked.packages.map((p) => `${p.name}=${p.version}`)).toEqual(['jq=1.6-2.1', 'libjq1=1.6-2.1', 'libonig5=6.9.8-1']);
    expect(locked.packages[2]).toEqual({ name: 'libonig5', version: '6.9.8-1', arch: 'amd64', sourcePackage: 'libonig', sha256: pkg('libonig5', '').checksum!.value });
    expect(locked.buildImage).toEqual({ ref: 'yumda/build-debian12:abc', id: identity.id });
    expect(locked.runtime).toEqual(runtime);
    const d = tempDir();
    const f = path.join(d, 'yumda.lock');
    writeFileSync(f, formatLock({ lockfileVersion: 1, layers: [{ ...locked, name: 'z' }, locked] }));
    expect(readLock(f)!.layers.map((l) => l.name)).toEqual(['tools', 'z']);
    writeFileSync(f, '{"lockfileVersion": 1, "layers": [{"name": "x"}]}');
    expect(() => readLock(f)).toThrow("yumda.lock: in 'layers.0': missing required field 'arch'");
  });

  it('says which requests changed: added, removed, constraint, target, repositories', () => {
    expect(requestDifferences(job, repos, runtime, locked)).toEqual([]);
    expect(requestDifferences({ ...job, packages: [...job.packages, { name: 'curl' }] }, repos, runtime, locked)).toEqual(["package 'curl' added to the manifest"]);
    expect(requestDifferences({ ...job, packages: [{ name: 'jq' }, { name: 'file', upstream: '^5.45' }] }, repos, runtime, locked)).toEqual([
      "package 'file' changed from 'file (upstream ^5.44)' to 'file (upstream ^5.45)'",
    ]);
    expect(requestDifferences({ ...job, target: 'al2023', packages: [{ name: 'jq' }] }, [], runtime, locked)).toEqual([
      'target changed from debian12 to al2023',
      "package 'file (upstream ^5.44)' removed from the manifest",
      "repository 'http://deb.debian.org/debian bookworm main' removed",
    ]);
  });

  it('records the runtime manifest a layer was resolved against, and says when it changed', () => {
    const d = tempDir();
    mkdirSync(path.join(d, 'rt'));
    const file = path.join(d, 'rt/standin.json');
    writeFileSync(file, readFileSync(runtimeFile('provided.al2023')));
    const own = layerRuntime({ target: 'al2023', runtimeManifest: file }, d);
    expect(own).toEqual({ id: 'provided.al2023', manifest: 'rt/standin.json', sha256: sha256(readFileSync(file)) });
    // the target's own: its id and the registry file's digest
    expect(layerRuntime({ target: 'debian12' }, d)).toEqual({ id: 'debian12', sha256: sha256(readFileSync(runtimeFile('debian12'))) });

    const withOwn = { ...locked, runtime: own };
    expect(requestDifferences(job, repos, own, withOwn)).toEqual([]);
    writeFileSync(file, readFileSync(file, 'utf8').replace('"packages": [', '"packages": [{ "name": "libnew", "version": "1-1", "arch": "x86_64" },'));
    const edited = layerRuntime({ target: 'al2023', runtimeManifest: file }, d);
    expect(requestDifferences(job, repos, edited, withOwn)).toEqual([
      `runtime manifest rt/standin.json changed (sha256 ${edited.sha256.slice(0, 12)}…, the lock has ${own.sha256.slice(0, 12)}…)`,
    ]);
    expect(requestDifferences(job, repos, runtime, withOwn)).toEqual(["runtime manifest rt/standin.json replaced by the target's runtime manifest (debian12)"]);
    // a lock written before runtimes were recorded: only a layer's own manifest is a change
    const { runtime: _, ...old } = locked;
    expect(requestDifferences(job, repos, runtime, old)).toEqual([]);
    expect(requestDifferences(job, repos, own, old)).toEqual(['runtime manifest rt/standin.json added']);
    expect(lockChanges(withOwn, { ...withOwn, runtime: edited })).toEqual([
      `~ runtime manifest rt/standin.json sha256 ${own.sha256.slice(0, 12)}… → ${edited.sha256.slice(0, 12)}…`,
    ]);
  });

  it('says how a resolution differs: versions, packages, checksums, build image', () => {
    const ref = { ref: 'yumda/build-debian12:abc', identity };
    expect(comparePlan(locked, plan, ref)).toEqual({ differences: [], notes: [] });
    const moved: Plan = {
      ...plan,
      packages: [pkg('jq', '1.6-2.1+deb12u3'), pkg('libjq1', '1.6-2.1', { checksum: { algorithm: 'sha256', value: 'c'.repeat(64) } }), pkg('libfoo1', '1.0')],
    };
    expect(comparePlan(locked, moved, { ref: 'yumda/build-debian12:def', identity }).differences).toEqual([
      'package jq 1.6-2.1 in the lock, 1.6-2.1+deb12u3 now',
      `package libjq1 1.6-2.1 has another checksum (sha256 cccccccccccc…, the lock says aaaaaaaaaaaa…)`,
      'package libfoo1 1.0 added (not in the lock)',
      'package libonig5 6.9.8-1 removed (in the lock, not resolved now)',
      'build image yumda/build-debian12:def, the lock has yumda/build-debian12:abc',
    ]);
    // a locally built image differs in ID on every machine: a note, not a difference
    expect(comparePlan(locked, plan, { ref: ref.ref, identity: { id: 'sha256:' + 'e'.repeat(64), repoDigests: [] } })).toMatchObject({
      differences: [],
      notes: [expect.stringMatching(/built locally/)],
    });
    // a registry image is compared by digest
    const pinned = { ...locked, buildImage: { ...locked.buildImage, repoDigests: ['yumda/build@sha256:' + '1'.repeat(64)] } };
    expect(comparePlan(pinned, plan, { ref: ref.ref, identity: { id: identity.id, repoDigests: ['yumda/build@sha256:' + '2'.repeat(64)] } }).differences).toEqual([
      expect.stringMatching(/^build image yumda\/build-debian12:abc has digest yumda\/build@sha256:2+, the lock has yumda\/build@sha256:1+$/),
    ]);
    expect(lockChanges(locked, lockedLayer({ job, repositories: repos, runtime, image: 'yumda/build-debian12:abc', identity, plan: moved }))).toEqual([
      '~ jq 1.6-2.1 → 1.6-2.1+deb12u3',
      '+ libfoo1 1.0',
      '- libonig5 6.9.8-1',
    ]);
  });

  it('--frozen: a plan that differs stops the build in one line naming the layer; a match says only its notes', () => {
    const ref = { ref: 'yumda/build-debian12:abc', identity };
    expect(requireLockedPlan(locked, plan, ref, "layer 'jq' (debian12 x86_64)")).toEqual([]);
    const moved: Plan = { ...plan, packages: plan.packages.filter((p) => p.name !== 'libonig5') };
    expect(() => requireLockedPlan(locked, moved, ref, "layer 'jq' (debian12 x86_64)")).toThrow(
      "layer 'jq' (debian12 x86_64) resolves differently from yumda.lock: package libonig5 6.9.8-1 removed (in the lock, not resolved now)",
    );
  });

  it('--frozen: a layer the lock lacks, a declaration that moved, and (building all) an entry the manifest lost', () => {
    const lock = { lockfileVersion: 1 as const, layers: [locked, { ...locked, name: 'gone' }] };
    const layers = [
      { name: locked.name, arch: locked.arch, label: 'L1', differences: () => ['packages changed'] },
      { name: 'new', arch: 'x86_64', label: 'L2', differences: () => [] },
    ];
    expect(frozenMismatches(lock, layers, { manifestName: 'yumda.yaml', allLayers: true })).toEqual([
      'L1: packages changed',
      'L2 is not in yumda.lock',
      `layer 'gone' (${locked.arch}) is in yumda.lock but not in yumda.yaml`,
    ]);
    expect(frozenMismatches(lock, layers, { manifestName: 'yumda.yaml', allLayers: false })).toHaveLength(2);
  });

  it('merges built entries into the lock, dropping the layers the manifest lost; a current range resolves to its locked version', () => {
    const other = { ...locked, name: 'other' };
    const rebuilt = { ...locked, packages: [] };
    const merged = mergedLock({ lockfileVersion: 1, layers: [locked, other] }, [rebuilt], (l) => l.name !== 'other');
    expect(merged.layers).toEqual([rebuilt]);
    const jqVersion = locked.packages.find((p) => p.name === 'jq')!.version;
    expect(
      lockedRequests(
        [
          { name: 'jq', upstream: '>=1.6' },
          { name: 'zz', upstream: '>=1' },
        ],
        locked,
      ),
    ).toEqual([
      { name: 'jq', version: jqVersion },
      { name: 'zz', upstream: '>=1' },
    ]);
  });
});

describe('version ranges and pins for apt', () => {
  it('picks the newest candidate whose upstream version is in the range', () => {
    const versions = ['1:2.0.1-1', '1.7.1-3+deb12u1', '1.6-2.1+deb12u3', '1.6-2.1'];
    expect(pickUpstream(versions, '>=1.6 <2')).toBe('1.7.1-3+deb12u1');
    expect(pickUpstream(versions, '~1.6')).toBe('1.6-2.1+deb12u3');
    expect(pickUpstream(versions, '^2')).toBe('1:2.0.1-1');
    expect(pickUpstream(versions, '^3')).toBeUndefined();
  });

  it('reads apt-cache madison and writes apt preferences that pin exact versions', () => {
    const madison = [
      '        jq | 1.6-2.1+deb12u3 | http://deb.debian.org/debian-security bookworm-security/main amd64 Packages',
      '        jq |    1.6-2.1 | http://deb.debian.org/debian bookworm/main amd64 Packages',
      '        jq |    1.6-2.1 | http://deb.debian.org/debian bookworm/main Sources',
      '      jqx |    9 | http://x y/main amd64 Packages',
    ].join('\n');
    expect(parseMadison(madison, 'jq')).toEqual(['1.6-2.1+deb12u3', '1.6-2.1']);
    expect(pinPreferences([{ name: 'libx11-6', version: '2:1.8.4-2+deb12u2', arch: 'amd64' }])).toBe('Package: libx11-6\nPin: version 2:1.8.4-2+deb12u2\nPin-Priority: 1001\n');
  });
});
