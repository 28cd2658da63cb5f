import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { compareEvr, formatEvr, nevra, parseEvr, parseReldep, rpmvercmp, satisfies } from '../../src/backends/rpm/version.js';
import { repoRoot } from '../helpers/cli.js';

// rpm's own test cases (rpm-software-management/rpm tests/rpmvercmp.at), from the shared fixtures
const CASES = readFileSync(path.resolve(repoRoot, '../shared/fixtures/vercmp/rpmvercmp.tsv'), 'utf8')
  .trim()
  .split('\n')
  .slice(1)
  .map((l) => l.split('\t') as [string, string, string]);

describe('rpmvercmp', () => {
  it("agrees with every one of rpm's own comparison cases", () => {
    expect(CASES.length).toBe(69);
    const wrong = CASES.filter(([a, b, want]) => rpmvercmp(a, b) !== Number(want)).map(([a, b, want]) => `${a} vs ${b}: want ${want}, got ${rpmvercmp(a, b)}`);
    expect(wrong).toEqual([]);
  });
});

describe('EVR', () => {
  it('parses and prints epoch:version-release', () => {
    expect(parseEvr('1:0.9-1')).toEqual({ epoch: 1, version: '0.9', release: '1' });
    expect(parseEvr('2.0')).toEqual({ epoch: 0, version: '2.0', release: undefined });
    expect(formatEvr(parseEvr('0:1.2-3.amzn2023'))).toBe('1.2-3.amzn2023');
    expect(formatEvr(parseEvr('3:1.2-3'))).toBe('3:1.2-3');
  });

  it('lets the epoch decide before the version, and ignores a missing release', () => {
    expect(compareEvr(parseEvr('1:0.9-1'), parseEvr('2.0-1'))).toBe(1);
    expect(compareEvr(parseEvr('2.26-64.amzn2'), parseEvr('2.26-38.amzn2'))).toBe(1);
    expect(compareEvr(parseEvr('1.2'), parseEvr('1.2-7'))).toBe(0);
    expect(compareEvr(parseEvr('1.2~rc1-1'), parseEvr('1.2-1'))).toBe(-1);
  });

  it('names a package as dnf does', () => {
    expect(nevra({ name: 'hello-data', epoch: 1, version: '0.9', release: '1', arch: 'noarch' })).toBe('hello-data-1:0.9-1.noarch');
    expect(nevra({ name: 'zlib', epoch: 0, version: '1.2.11', release: '33.amzn2023', arch: 'x86_64' })).toBe('zlib-1.2.11-33.amzn2023.x86_64');
  });
});

describe('capabilities', () => {
  const ok = (provide: string, require: string) => satisfies(parseReldep(provide), parseReldep(require));

  it('matches sonames with their symbol versions exactly (the form skew takes)', () => {
    expect(ok('libbase.so.1(BASE_1.0)(64bit)', 'libbase.so.1(BASE_1.0)(64bit)')).toBe(true);
    expect(ok('libbase.so.1(BASE_1.0)(64bit)', 'libbase.so.1(BASE_1.1)(64bit)')).toBe(false);
    expect(ok('libbase.so.1()(64bit)', 'libbase.so.1(BASE_1.0)(64bit)')).toBe(false);
  });

  it('compares versioned requirements against what is provided', () => {
    expect(ok('zlib = 1.2.11-33.amzn2023.0.4', 'zlib >= 1.2.11')).toBe(true);
    expect(ok('zlib = 1.2.11-33.amzn2023.0.4', 'zlib >= 1.2.13')).toBe(false);
    expect(ok('zlib = 1.2.11-33.amzn2023.0.4', 'zlib < 1.3')).toBe(true);
    expect(ok('zlib = 1.2.11-33.amzn2023.0.4', 'zlib = 1.2.11')).toBe(true);
    expect(ok('gmp = 1:6.0.0-15.amzn2', 'gmp >= 1:6.0.0')).toBe(true);
    expect(ok('gmp = 6.0.0-15.amzn2', 'gmp >= 1:6.0.0')).toBe(false);
    expect(ok('python(abi) = 2.7', 'python(abi) = 3.9')).toBe(false);
    expect(ok('libgcc', 'libgcc >= 11')).toBe(true);
    expect(ok('foo > 2', 'foo < 3')).toBe(true);
    expect(ok('foo > 3', 'foo < 3')).toBe(false);
    expect(ok('foo >= 3', 'foo <= 3')).toBe(true);
  });

  it('does not evaluate rich dependencies', () => {
    expect(parseReldep('(glibc-gconv-extra(x86-64) = 2.34 if redhat-rpm-config)')).toMatchObject({ rich: true });
    expect(ok('glibc = 2.34', '(glibc if foo)')).toBe(false);
  });
});
