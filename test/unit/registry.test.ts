import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadRuntime, loadTarget, targetIds } from '../../src/registry/load.js';
import { repoRoot, run } from '../helpers/cli.js';
import { tempDir } from '../helpers/tmp.js';

const FIXTURES = path.resolve(repoRoot, '../shared/fixtures');

describe('registry: the Amazon Linux targets and runtimes', () => {
  it('every target and its runtime validate', () => {
    expect(targetIds()).toEqual(['al2', 'al2023', 'debian12']);
    for (const id of targetIds()) {
      const t = loadTarget(id);
      const r = loadRuntime(t.runtime);
      expect(r.family).toBe(t.family);
      expect(r.provenance.source.length).toBeGreaterThan(10);
    }
    expect(loadTarget('al2023')).toMatchObject({ family: 'rpm', packageManager: 'dnf', architectures: ['x86_64', 'arm64'], runtime: 'provided.al2023' });
    expect(loadTarget('al2')).toMatchObject({ family: 'rpm', packageManager: 'yum', architectures: ['x86_64', 'arm64'], runtime: 'provided.al2' });
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

  it('the Amazon Linux manifests are what the derivation script makes of the fixtures', async () => {
    const out = tempDir();
    const r = await run('python3', [path.join(repoRoot, 'registry/runtimes/derive/amazon-linux.py'), FIXTURES, out]);
    expect(r.code, r.stderr).toBe(0);
    for (const id of ['provided.al2023', 'provided.al2']) {
      expect(readFileSync(path.join(out, `${id}.json`), 'utf8')).toBe(readFileSync(path.join(repoRoot, 'registry/runtimes', `${id}.json`), 'utf8'));
    }
  });
});
