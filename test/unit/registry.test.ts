import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { Runtime as LambdaRuntime } from '@aws-sdk/client-lambda';
import { loadRuntime, loadTarget, targetIds } from '../../src/registry/load.js';
import { MAX_COMPATIBLE_RUNTIMES, publishableRuntimes, runtimeLabel } from '../../src/registry/lambda-runtimes.js';
import type { Target } from '../../src/registry/types.js';
import { runtimeGlibc, targetsProviding } from '../../src/check/c-library.js';
import { repoRoot, run } from '../helpers/cli.js';
import { tempDir } from '../helpers/tmp.js';

const FIXTURES = path.resolve(repoRoot, '../shared/fixtures');

describe('registry: the Amazon Linux targets and runtimes', () => {
  it('every target and its runtime validate', () => {
    expect(targetIds()).toEqual(['al2', 'al2023', 'debian12', 'debian13']);
    for (const id of targetIds()) {
      const t = loadTarget(id);
      const r = loadRuntime(t.runtime);
      expect(r.family).toBe(t.family);
      expect(r.provenance.source.length).toBeGreaterThan(10);
    }
    expect(loadTarget('al2023')).toMatchObject({ family: 'rpm', packageManager: 'dnf', architectures: ['x86_64', 'arm64'], runtime: 'provided.al2023' });
    expect(loadTarget('al2')).toMatchObject({ family: 'rpm', packageManager: 'yum', architectures: ['x86_64', 'arm64'], runtime: 'provided.al2' });
    expect(loadTarget('debian13')).toMatchObject({ family: 'deb', packageManager: 'apt', distro: { codename: 'trixie' }, architectures: ['x86_64', 'arm64'], runtime: 'debian13' });
  });

  it("the Debian runtimes are their slim images' package sets, with the C library of their release", () => {
    for (const [id, glibc] of [
      ['debian12', '2.36'],
      ['debian13', '2.41'],
    ] as const) {
      const r = loadRuntime(id);
      expect(r.provenance.method).toBe(`yumda runtime refresh ${r.image} --runtime ${id}`);
      expect(r.packages.find((p) => p.name === 'libc6')?.version).toMatch(new RegExp(`^${glibc.replace('.', '\\.')}-`));
      expect(r.libraries).toEqual(expect.arrayContaining(['libc.so.6', 'ld-linux-x86-64.so.2', 'libstdc++.so.6', 'libz.so.1']));
    }
  });

  it('provided.al2 is exactly the real Lambda dump', () => {
    const dump = readFileSync(path.join(FIXTURES, 'lambda-provided-al2/packages.txt'), 'utf8').trim().split('\n');
    const r = loadRuntime('provided.al2');
    expect(r.packages.map((p) => `${p.name}-${p.version}.${p.arch}`).sort()).toEqual(dump.sort());
    expect(r.libraries).toEqual(expect.arrayContaining(['libc.so.6', 'libstdc++.so.6', 'libcrypto.so.10', 'libz.so.1']));
  });

  it("provided.al2023 lists only packages known to be in Lambda's base image", () => {
    const r = loadRuntime('provided.al2023');
    const names = r.packages.map((p) => p.name);
    // named in AWS's release notes for the AL2023 minimal container image provided.al2023 is built on
    expect(names).toEqual(expect.arrayContaining(['glibc', 'openssl-libs', 'krb5-libs', 'glib2', 'ca-certificates', 'keyutils-libs', 'p11-kit']));
    // in the amazonlinux:2023 image but not known to be in Lambda: left out (shipped when needed)
    for (const n of ['dnf', 'python3', 'rpm', 'libstdc++', 'sqlite-libs', 'libxml2', 'curl-minimal', 'tzdata']) expect(names).not.toContain(n);
    expect(r.provenance.note).toMatch(/Left out although amazonlinux:2023 has them/);
  });

  it("every runtime records its C library's symbol versions: glibc 2.26 (AL2), 2.34 (AL2023), 2.36 (Debian 12), 2.41 (Debian 13)", () => {
    expect(Object.fromEntries(['provided.al2', 'provided.al2023', 'debian12', 'debian13'].map((id) => [id, runtimeGlibc(id)]))).toEqual({
      'provided.al2': 'GLIBC_2.26',
      'provided.al2023': 'GLIBC_2.34',
      debian12: 'GLIBC_2.36',
      debian13: 'GLIBC_2.41',
    });
    // the C++ runtime where the runtime has it: AL2's gcc 7.3.1, Debian 12's gcc 12 (provided.al2023 has no libstdc++)
    const newest = (id: string, so: string) =>
      loadRuntime(id)
        .symbolVersions!.find((s) => s.soname === so)
        ?.versions.filter((v) => v.startsWith('GLIBCXX_3'))
        .at(-1);
    expect([newest('provided.al2', 'libstdc++.so.6'), newest('debian12', 'libstdc++.so.6'), newest('provided.al2023', 'libstdc++.so.6')]).toEqual([
      'GLIBCXX_3.4.24',
      'GLIBCXX_3.4.30',
      undefined,
    ]);
    // which targets a layer needing a newer C library can be built for instead
    expect(targetsProviding('libc.so.6', 'GLIBC_2.38')).toEqual(['debian13']);
    expect(targetsProviding('libc.so.6', 'GLIBC_2.34', 'al2023')).toEqual(['debian12', 'debian13']);
  });

  it('the Amazon Linux manifests are what the derivation script makes of the fixtures', async () => {
    const out = tempDir();
    const r = await run('python3', [path.join(repoRoot, 'registry/runtimes/derive/amazon-linux.py'), FIXTURES, out]);
    expect(r.code, r.stderr).toBe(0);
    for (const id of ['provided.al2023', 'provided.al2']) {
      expect(readFileSync(path.join(out, `${id}.json`), 'utf8')).toBe(readFileSync(path.join(repoRoot, 'registry/runtimes', `${id}.json`), 'utf8'));
    }
  });
});

/**
 * The Lambda runtimes built on Amazon Linux 1 and 2, from AWS's runtime tables: a closed set (no
 * new runtime is built on either), so every other value of the SDK's Runtime enum is an AL2023
 * runtime. A runtime AWS adds to the SDK then fails the test below until al2023.json lists it.
 */
const AL1_RUNTIMES = [
  'nodejs',
  'nodejs4.3',
  'nodejs4.3-edge',
  'nodejs6.10',
  'nodejs8.10',
  'python2.7',
  'python3.6',
  'python3.7',
  'java8',
  'go1.x',
  'provided',
  'dotnetcore1.0',
  'dotnetcore2.0',
  'dotnetcore2.1',
  'ruby2.5',
];
const AL2_RUNTIMES = [
  'provided.al2',
  'nodejs10.x',
  'nodejs12.x',
  'nodejs14.x',
  'nodejs16.x',
  'nodejs18.x',
  'python3.8',
  'python3.9',
  'python3.10',
  'python3.11',
  'java8.al2',
  'java11',
  'java17',
  'dotnetcore3.1',
  'dotnet6',
  'ruby2.7',
  'ruby3.2',
];

describe("registry: the targets' Lambda runtimes against the Runtime enum of the AWS SDK yumda ships", () => {
  const sdk = Object.values(LambdaRuntime) as string[];
  const al2023 = loadTarget('al2023');
  const al2 = loadTarget('al2');

  it('every AL2023 runtime of the enum is listed for al2023, and nothing else', () => {
    const expected = sdk.filter((r) => !AL1_RUNTIMES.includes(r) && !AL2_RUNTIMES.includes(r));
    expect([...al2023.compatibleRuntimes].sort()).toEqual(expected.sort());
    // the ones the issue found missing
    expect(al2023.compatibleRuntimes).toEqual(
      expect.arrayContaining(['nodejs24.x', 'python3.14', 'java25', 'ruby3.4', 'dotnet10', 'java8.al2023', 'java11.al2023', 'java17.al2023']),
    );
  });

  it('al2 lists only AL2 runtimes of the enum, each with its own deprecation date', () => {
    for (const r of al2.compatibleRuntimes) expect(AL2_RUNTIMES, r).toContain(r);
    for (const r of al2.compatibleRuntimes) expect(sdk, r).toContain(r);
    const dates = new Map(al2.runtimeDeprecations!.dates.map((d) => [d.runtime, d]));
    for (const r of al2.compatibleRuntimes) expect(dates.get(r)?.deprecated, r).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    // AWS's table: python3.9 first, provided.al2 with the OS, the java runtimes a year later
    expect(dates.get('python3.9')).toEqual({ runtime: 'python3.9', deprecated: '2025-12-15', blockCreate: '2027-02-01', blockUpdate: '2027-03-03' });
    expect(dates.get('provided.al2')?.deprecated).toBe('2026-07-31');
    expect(dates.get('java17')?.deprecated).toBe('2027-06-30');
  });

  it('dates are only given for listed runtimes, in order (deprecated, then creates, then updates blocked)', () => {
    for (const t of [al2, al2023]) {
      expect(t.runtimeDeprecations!.source).toMatch(/lambda-runtimes/);
      for (const d of t.runtimeDeprecations!.dates) {
        expect(t.compatibleRuntimes, `${t.id}: ${d.runtime}`).toContain(d.runtime);
        expect(d.deprecated <= (d.blockCreate ?? d.deprecated) && (d.blockCreate ?? d.deprecated) <= (d.blockUpdate ?? '9999'), d.runtime).toBe(true);
      }
    }
  });

  it('says which runtimes are deprecated, and which soon', () => {
    expect(runtimeLabel(al2, 'python3.9', '2026-12-04')).toBe('python3.9 (deprecated 2025-12-15)');
    expect(runtimeLabel(al2, 'java17', '2026-12-04')).toBe('java17 (deprecated from 2027-06-30)');
    expect(runtimeLabel(al2, 'java17', '2026-01-01')).toBe('java17');
    expect(runtimeLabel(al2023, 'nodejs24.x', '2026-12-04')).toBe('nodejs24.x');
  });

  it('publishes at most 15, leaving out those no longer updatable, then those deprecated first', () => {
    const t = (runtimes: string[], dates: Array<[string, string, string?]>): Target => ({
      ...al2023,
      compatibleRuntimes: runtimes,
      runtimeDeprecations: { source: 'test', dates: dates.map(([runtime, deprecated, blockUpdate]) => ({ runtime, deprecated, ...(blockUpdate ? { blockUpdate } : {}) })) },
    });
    const few = t(['a', 'b', 'gone'], [['gone', '2020-01-01', '2021-01-01']]);
    expect(publishableRuntimes(few, '2026-12-04')).toEqual({ runtimes: ['a', 'b'], leftOut: ['gone'] });
    const names = Array.from({ length: 18 }, (_, i) => `r${i}`);
    const many = t(names, [
      ['r0', '2029-01-01'],
      ['r3', '2026-01-01'],
      ['r7', '2027-01-01'],
      ['r9', '2026-06-01'],
    ]);
    const got = publishableRuntimes(many, '2026-12-04');
    expect(got.runtimes).toHaveLength(MAX_COMPATIBLE_RUNTIMES);
    expect(got.leftOut).toEqual(['r3', 'r7', 'r9']);
    // the real list fits once its deprecated runtimes go
    expect(publishableRuntimes(al2023, '2026-12-04').runtimes.length).toBeLessThanOrEqual(MAX_COMPATIBLE_RUNTIMES);
    expect(publishableRuntimes(al2, '2026-12-04')).toEqual({ runtimes: al2.compatibleRuntimes, leftOut: [] });
    expect(publishableRuntimes(al2, '2027-09-01').runtimes).toEqual([]);
  });
});
