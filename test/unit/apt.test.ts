import { describe, expect, it } from 'vitest';
import {
  aptBackend,
  aptConf,
  aptResolveError,
  explainAptFailure,
  glibcRequirement,
  parseAptRepo,
  parsePrintUris,
  runtimeStatus,
  sourcesList,
} from '../../src/backends/apt/resolve.js';
import { fetchFailure } from '../../src/backends/apt/container.js';
import { parseDeb822, parseDependsField } from '../../src/backends/apt/deb822.js';
import { attribute, runtimeDependencies } from '../../src/resolve/plan.js';
import type { Runtime } from '../../src/registry/types.js';
import { NotFoundError } from '../../src/resolve/backend.js';
import { loadRuntime, loadTarget } from '../../src/registry/load.js';
import { parseArch } from '../../src/registry/arch.js';

// Real `apt-get install --print-uris -q poppler-utils libc6` output (bookworm, 2026), trimmed.
const URIS = `Reading package lists...
Building dependency tree...
The following packages will be upgraded:
  libc-bin libc6
Need to get 3368 kB of archives.
'http://deb.debian.org/debian/pool/main/g/glibc/libc6_2.36-9%2bdeb12u14_amd64.deb' libc6_2.36-9+deb12u14_amd64.deb 2759320 MD5Sum:8d98f0c882f269aaee8437bcfe89346e
'http://deb.debian.org/debian/pool/main/f/fonts-dejavu/fonts-dejavu-core_2.37-6_all.deb' fonts-dejavu-core_2.37-6_all.deb 1067728 MD5Sum:755d6c59d57accb3000de0cdba40918d
'http://deb.debian.org/debian-security/pool/updates/main/b/brotli/libbrotli1_1.0.9-2%2bdeb12u1_amd64.deb' libbrotli1_1.0.9-2+deb12u1_amd64.deb 274704 
'http://deb.debian.org/debian/pool/main/libj/libjpeg-turbo/libjpeg62-turbo_2.1.5-2_amd64.deb' libjpeg62-turbo_1%3a2.1.5-2_amd64.deb 166332 MD5Sum:c43c12e2144cad5b82c10d63dcc57ecd
'http://deb.debian.org/debian/pool/main/p/poppler/poppler-utils_22.12.0-2%2bdeb12u3_amd64.deb' poppler-utils_22.12.0-2+deb12u3_amd64.deb 191820 MD5Sum:0c1b7e4ab4a35e8a0b63a0e6e2c4a1c0
`;

describe('apt', () => {
  it("reads the planned packages of --print-uris in apt's order, epochs decoded, runtime packages as upgrades (version skew)", () => {
    const runtime = new Map([
      ['libc6', '2.36-9+deb12u4'],
      ['zlib1g', '1:1.2.13.dfsg-1'],
    ]);
    expect(parsePrintUris(URIS, runtime)).toEqual([
      { name: 'libc6', version: '2.36-9+deb12u14', arch: 'amd64', upgradesFrom: '2.36-9+deb12u4' },
      { name: 'fonts-dejavu-core', version: '2.37-6', arch: 'all' },
      { name: 'libbrotli1', version: '1.0.9-2+deb12u1', arch: 'amd64' },
      { name: 'libjpeg62-turbo', version: '1:2.1.5-2', arch: 'amd64' },
      { name: 'poppler-utils', version: '22.12.0-2+deb12u3', arch: 'amd64' },
    ]);
    expect(parsePrintUris('Reading package lists...\n0 upgraded, 0 newly installed, 0 to remove and 0 not upgraded.\n', runtime)).toEqual([]);
    // a repository's own extension; bytes apt escapes that are not UTF-8 do not throw
    expect(parsePrintUris("'file:/srv/repo/./tool_1.0_all.udeb' tool_1.0_all.udeb 1234 SHA256:ab\n'http://x/y.deb' caf%e9_1.0_all.deb 1 \n", runtime)).toEqual([
      { name: 'tool', version: '1.0', arch: 'all' },
      { name: 'caf\ufffd', version: '1.0', arch: 'all' },
    ]);
    // a planned download it cannot read is an error, not a package silently left out
    expect(() => parsePrintUris("'http://x/odd' odd-file-name 12 \n", runtime)).toThrow(/apt planned a download yumda cannot read: 'http:\/\/x\/odd' odd-file-name/);
  });

  it('explains failures in one line naming the package', () => {
    expect(explainAptFailure('E: Unable to locate package no-such-package-xyz', '', 'debian12')).toBe("package 'no-such-package-xyz' was not found in the debian12 repositories");
    expect(explainAptFailure("E: Package 'python' has no installation candidate", '', 'debian12')).toMatch(/^package 'python' exists/);
    expect(explainAptFailure("E: Version '9.9' for 'curl' was not found", '', 'debian12')).toBe("version 9.9 of package 'curl' was not found in the debian12 repositories");
  });

  it('10,000 unknown names: one line with the count and the first few, a not-found error (issue 19, item 14)', () => {
    const names = Array.from({ length: 10_000 }, (_, i) => `zz-nopkg${i + 1}`);
    const stderr = names.map((n) => `E: Unable to locate package ${n}`).join('\n');
    const e = aptResolveError(stderr, 'Reading package lists...\nBuilding dependency tree...\n', 'debian12');
    expect(e).toBeInstanceOf(NotFoundError);
    expect(e.message).toBe(
      "10000 of the requested packages were not found in the debian12 repositories: 'zz-nopkg1', 'zz-nopkg2', 'zz-nopkg3', 'zz-nopkg4', 'zz-nopkg5' and 9995 more",
    );
    const two = aptResolveError("E: Unable to locate package nope\nE: Version '9.9' for 'curl' was not found", '', 'debian12');
    expect(two.message).toBe("2 of the requested packages were not found in the debian12 repositories: 'nope', 'curl=9.9'");
    expect(aptResolveError("E: Package 'python' has no installation candidate", '', 'debian12')).not.toBeInstanceOf(NotFoundError);
  });

  it('writes a status file that marks the runtime packages installed, at the target arch', () => {
    const runtime = {
      packages: [
        { name: 'libc6', version: '2.36-9', arch: 'amd64', multiArch: 'same' },
        { name: 'tzdata', version: '2024a', arch: 'all', provides: ['tzdata-bookworm'] },
      ],
    } as Runtime;
    const stanzas = parseDeb822(runtimeStatus(runtime, 'arm64'));
    expect(stanzas).toHaveLength(2);
    expect(Object.fromEntries(stanzas[0]!)).toEqual({ Package: 'libc6', Status: 'install ok installed', Architecture: 'arm64', 'Multi-Arch': 'same', Version: '2.36-9' });
    expect(stanzas[1]!.get('Architecture')).toBe('all');
    expect(stanzas[1]!.get('Provides')).toBe('tzdata-bookworm');
    // a runtime that provides nothing (a self-contained layer's): an empty file, which apt parses
    expect(runtimeStatus({ ...runtime, packages: [] }, 'amd64')).toBe('');
  });

  it('configures apt for the target architecture without recommends', () => {
    const conf = aptConf('arm64');
    expect(conf).toContain('APT::Architecture "arm64";');
    expect(conf).toContain('APT::Install-Recommends "false";');
  });

  it("keeps all of apt's state under /yumda: with --local that machine's own apt is not touched", () => {
    const conf = aptConf('amd64');
    expect(conf).toContain('Dir::State::Lists "/yumda/lists";');
    expect(conf).toContain('Dir::State "/yumda/state";');
    expect(conf).toContain('Dir::Cache "/yumda/apt-cache";');
    expect(conf).not.toMatch(/\/var\/(lib|cache)\/apt/);
  });

  it("keeps apt's binary caches in the metadata volume beside the lists, one pkgcache per runtime status", () => {
    const conf = aptConf('amd64', 'abc123');
    expect(conf).toContain('Dir::Cache::srcpkgcache "/yumda/lists/srcpkgcache.bin";');
    expect(conf).toContain('Dir::Cache::pkgcache "/yumda/lists/pkgcache-abc123.bin";');
    const runtime = loadRuntime('debian12');
    const confOf = (r: Runtime) =>
      aptBackend.configFiles({ target: loadTarget('debian12'), runtime: r, arch: parseArch('x86_64'), repositories: [] }).get('/yumda/etc/apt.conf') as string;
    const pkgcache = (c: string) => /Dir::Cache::pkgcache "([^"]+)"/.exec(c)![1];
    // another runtime's status is another cache; the same status, the same one
    expect(pkgcache(confOf(runtime))).not.toBe(pkgcache(confOf({ ...runtime, packages: runtime.packages.slice(1) })));
    expect(pkgcache(confOf(runtime))).toBe(pkgcache(confOf({ ...runtime })));
  });

  it('writes one sources line per suite, trusting only --repo entries explicitly', () => {
    const text = sourcesList([
      { id: 'debian', url: 'http://deb.debian.org/debian', suites: ['bookworm', 'bookworm-updates'], components: ['main'] },
      parseAptRepo('http://127.0.0.1:8080/repo ./', 0, 'bookworm'),
    ]);
    expect(text).toBe(
      '# debian\ndeb http://deb.debian.org/debian bookworm main\ndeb http://deb.debian.org/debian bookworm-updates main\n# repo1\ndeb [trusted=yes] http://127.0.0.1:8080/repo ./\n',
    );
    expect(() => parseAptRepo('not a url', 0, 'bookworm')).toThrow(/expected a URL/);
  });
});

describe("apt's fetch failures", () => {
  // what apt-get download printed in a build container without network (issue 10, point 14)
  const OFFLINE = [
    'Err:1 http://deb.debian.org/debian bookworm/main amd64 libonig5 amd64 6.9.8-1',
    "  Temporary failure resolving 'deb.debian.org'",
    'Err:2 http://deb.debian.org/debian bookworm/main amd64 libjq1 amd64 1.6-2.1',
    "  Temporary failure resolving 'deb.debian.org'",
    "E: Failed to fetch http://deb.debian.org/debian/pool/main/libo/libonig/libonig5_6.9.8-1_amd64.deb  Temporary failure resolving 'deb.debian.org'",
    "E: Failed to fetch http://deb.debian.org/debian/pool/main/j/jq/libjq1_1.6-2.1_amd64.deb  Temporary failure resolving 'deb.debian.org'",
    "E: Failed to fetch http://deb.debian.org/debian/pool/main/j/jq/jq_1.6-2.1_amd64.deb  Temporary failure resolving 'deb.debian.org'",
  ].join('\n');
  it.each([
    [
      'three downloads without network: the first URL, why, and how many more',
      OFFLINE,
      "Temporary failure resolving 'deb.debian.org': http://deb.debian.org/debian/pool/main/libo/libonig/libonig5_6.9.8-1_amd64.deb (and 2 more)",
    ],
    [
      'an index that failed, as apt-get update warns',
      'W: Failed to fetch http://deb.debian.org/debian/dists/bookworm/InRelease  Could not connect to deb.debian.org:80',
      'Could not connect to deb.debian.org:80: http://deb.debian.org/debian/dists/bookworm/InRelease',
    ],
    [
      'only the summary line',
      'E: Unable to fetch some archives, maybe run apt-get update or try with --fix-missing?',
      'Unable to fetch some archives, maybe run apt-get update or try with --fix-missing?',
    ],
    ['no fetch failure at all', 'E: Unable to locate package nope', undefined],
  ])('%s', (_, output, said) => {
    expect(fetchFailure(output)).toBe(said);
  });
});

describe('deb822 and dependencies', () => {
  it('parses stanzas with continuation lines', () => {
    const s = parseDeb822('Package: a\nDescription: one\n two\n\nPackage: b\n');
    expect(s.map((x) => x.get('Package'))).toEqual(['a', 'b']);
    expect(s[0]!.get('Description')).toBe('one\ntwo');
  });

  it('parses Depends into alternatives without versions or arch qualifiers', () => {
    expect(parseDependsField('libc6 (>= 2.34), fonts-dejavu-core | ttf-bitstream-vera, perl:any, libx [amd64]')).toEqual([
      ['libc6'],
      ['fonts-dejavu-core', 'ttf-bitstream-vera'],
      ['perl'],
      ['libx'],
    ]);
  });

  it('attributes each package to the requested packages that pull it in', () => {
    const pkgs = [
      { name: 'a', provides: [], depends: [['liba']] },
      { name: 'b', provides: [], depends: [['libshared'], ['virtual-font']] },
      { name: 'liba', provides: [], depends: [['libshared'], ['libc6']] },
      { name: 'libshared', provides: [], depends: [] },
      { name: 'fonts-x', provides: ['virtual-font'], depends: [] },
    ];
    const by = attribute(pkgs, ['a', 'b']);
    expect(by.get('a')).toEqual(['a']);
    expect(by.get('liba')).toEqual(['a']);
    expect(by.get('libshared')).toEqual(['a', 'b']);
    expect(by.get('fonts-x')).toEqual(['b']);
    expect(runtimeDependencies(pkgs, new Set(['libc6', 'zlib1g']))).toEqual(['libc6']);
  });
});

describe('the C library a Debian package set needs', () => {
  const stanza = (pkg: string, version: string, depends: string, pre = '') =>
    parseDeb822(`Package: ${pkg}\nVersion: ${version}\nDepends: ${depends}\n${pre ? `Pre-Depends: ${pre}\n` : ''}`)[0]!;
  it.each([
    [
      'the strongest libc6 (>= X) names the package and GLIBC_X',
      [stanza('a', '1', 'libc6 (>= 2.34), libz1'), stanza('poppler-utils', '25.03.0-5', 'libc6 (>= 2.38), libcairo2 (>= 1.2.4)')],
      { by: 'poppler-utils 25.03.0-5', version: '2.38', glibc: 'GLIBC_2.38' },
    ],
    [
      '2.9 is older than 2.10; an arch qualifier and Pre-Depends count',
      [stanza('x', '1', 'libc6:amd64 (>= 2.9)'), stanza('y', '2', 'libz1', 'libc6 (>= 2.10)')],
      { by: 'y 2', version: '2.10', glibc: 'GLIBC_2.10' },
    ],
    ['an alternative and a Debian revision', [stanza('z', '3', 'libc6.1 (>= 2.5) | libc6 (>= 2.36-1)')], { by: 'z 3', version: '2.36', glibc: 'GLIBC_2.36' }],
    ['none', [stanza('w', '1', 'libc6-dev, libz1')], undefined],
  ] as const)('%s', (_, stanzas, expected) => {
    expect(glibcRequirement([...stanzas])).toEqual(expected);
  });
});
