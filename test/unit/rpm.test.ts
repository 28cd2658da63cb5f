import { NotFoundError } from '../../src/resolve/backend.js';
import { loadTarget } from '../../src/registry/load.js';
import { describe, expect, it } from 'vitest';
import { parseArch } from '../../src/registry/arch.js';
import { parseInventory } from '../../src/registry/refresh.js';
import type { Runtime, Target } from '../../src/registry/types.js';
import type { ResolveContext } from '../../src/resolve/backend.js';
import { newestFirst, parseRpmRepo } from '../../src/backends/rpm/resolve.js';
import { displayRepoUrl, explainRpmFailure, helperError, missingFromRuntimeHint, parseHelperOutput, pinNevra, rpmJob, type HelperError } from '../../src/backends/rpm/helper.js';
import { stageScript } from '../../src/backends/rpm/stage.js';
import { planFromResolution, sonameOf, type RpmPackageInfo } from '../../src/backends/rpm/plan.js';
import { rpmPackage } from '../helpers/rpm-package.js';
import { decideSkew, type SkewCase } from '../../src/resolve/skew.js';
import { isUserError } from '../../src/util/errors.js';
import { pickUpstream } from '../../src/resolve/constraints.js';

const pkg = rpmPackage;

const runtime: Pick<Runtime, 'id' | 'packages' | 'libraries'> = {
  id: 'provided.al2023',
  packages: [
    {
      name: 'glibc',
      version: '2.34-52.amzn2023.0.3',
      arch: 'x86_64',
      provides: ['libc.so.6()(64bit)', 'libc.so.6(GLIBC_2.34)(64bit)', 'rtld(GNU_HASH)', 'glibc = 2.34-52.amzn2023.0.3'],
    },
    { name: 'zlib', version: '1.2.11-33.amzn2023.0.4', arch: 'x86_64', provides: ['libz.so.1()(64bit)', 'libz.so.1(ZLIB_1.2.9)(64bit)'] },
    { name: 'coreutils-single', version: '8.32-30.amzn2023.0.3', arch: 'x86_64', provides: ['coreutils = 8.32-30.amzn2023.0.3'] },
    { name: 'pcre2', version: '10.40-1.amzn2023.0.3', arch: 'x86_64', provides: ['libpcre2-8.so.0()(64bit)'] },
    // as for AL2: name and version only, provides read from the repositories at build time
    { name: 'libstdc++', version: '7.3.1-9.amzn2', arch: 'x86_64' },
  ],
  libraries: ['libc.so.6', 'libz.so.1', 'libpcre2-8.so.0', 'libstdc++.so.6'],
};

const plan = (packages: RpmPackageInfo[], requested: string[], runtimeProvides: Record<string, string[]> = {}) =>
  planFromResolution({
    resolution: { packages, runtimeProvides },
    requested: requested.map((name) => ({ name })),
    runtime,
    rpmArch: 'x86_64',
    runtimeBound: new Set(loadTarget('al2023').runtimeBound),
  });

describe('rpm plan: what the layer ships of the resolved closure', () => {
  const glibc = pkg('glibc', '2.34-52.amzn2023.0.3');
  const zlib = pkg('zlib', '1.2.11-33.amzn2023.0.4', { provides: ['libz.so.1()(64bit)'] });

  it('ships the closure minus what the runtime satisfies, with who pulled what in', () => {
    const p = plan(
      [
        pkg('poppler-utils', '22.01.0-1', {
          requires: [
            ['libpoppler.so.118()(64bit)', ['poppler']],
            ['libc.so.6(GLIBC_2.34)(64bit)', ['glibc']],
            ['rpmlib(PayloadIsZstd) <= 5.4.18-1', []],
          ],
        }),
        pkg('poppler', '22.01.0-1', {
          provides: ['libpoppler.so.118()(64bit)'],
          requires: [
            ['libz.so.1()(64bit)', ['zlib']],
            ['libc.so.6()(64bit)', ['glibc']],
          ],
        }),
        glibc,
        zlib,
      ],
      ['poppler-utils'],
    );
    expect(p.packages.map((x) => [x.name, x.version, x.requiredBy, x.requested])).toEqual([
      ['poppler', '22.01.0-1', ['poppler-utils'], false],
      ['poppler-utils', '22.01.0-1', ['poppler-utils'], true],
    ]);
    expect(p.fromRuntime).toEqual(['glibc', 'zlib']);
    expect(p.skew).toEqual([]);
    expect(p.packages[0]).toMatchObject({
      downloadSize: 1000,
      installedSize: 3000,
      repository: 'amazonlinux',
      filename: 'Packages/poppler.rpm',
      checksum: { algorithm: 'sha256' },
      sourcePackage: 'poppler',
    });
  });

  it('does not ship a different-named provider when the runtime satisfies the requirement', () => {
    // the solver chose coreutils for `coreutils`; the runtime's coreutils-single provides it
    const p = plan(
      [
        pkg('git', '2.40.1-1', {
          requires: [
            ['coreutils', ['coreutils']],
            ['/usr/bin/env', ['coreutils-single']],
          ],
        }),
        pkg('coreutils', '8.32-30'),
        pkg('coreutils-single', '8.32-30.amzn2023.0.3'),
      ],
      ['git'],
    );
    expect(p.packages.map((x) => x.name)).toEqual(['git']);
    expect(p.fromRuntime).toEqual(['coreutils-single']);
  });

  it("takes the runtime's provides from the repositories when the manifest has none (AL2)", () => {
    const closure = [
      pkg('tool', '1-1', { requires: [['libstdc++.so.6(GLIBCXX_3.4.21)(64bit)', ['libstdc++']]] }),
      pkg('libstdc++', '7.3.1-17.amzn2', { provides: ['libstdc++.so.6(GLIBCXX_3.4.21)(64bit)'] }),
    ];
    expect(plan(closure, ['tool'], { 'libstdc++': ['libstdc++.so.6()(64bit)', 'libstdc++.so.6(GLIBCXX_3.4.21)(64bit)'] }).packages.map((x) => x.name)).toEqual(['tool']);
    // without them the runtime's version cannot be shown to satisfy it: skew, and the layer ships
    // its own libstdc++, found before the runtime's through the programs' RPATH
    const p = plan(closure, ['tool']);
    expect(p.packages.map((x) => x.name)).toEqual(['libstdc++', 'tool']);
    expect(p.notes[0]).toMatch(
      /^tool needs libstdc\+\+ 7\.3\.1-17\.amzn2 .*, but the provided\.al2023 runtime has libstdc\+\+ 7\.3\.1-9\.amzn2; the layer ships .*found first through the programs' RPATH$/,
    );
  });

  it('ships a newer runtime package when no runtime library would shadow it', () => {
    const p = plan(
      [
        pkg('git', '2.40.1-1', { requires: [['libpcre2-8.so.0(PCRE2_10.42)(64bit)', ['pcre2']]] }),
        pkg('pcre2', '10.42-1.amzn2023', { provides: ['libpcre2-posix.so.3()(64bit)'], requires: [['libc.so.6()(64bit)', ['glibc']]] }),
        glibc,
      ],
      ['git'],
    );
    // pcre2 10.42's libraries (as provided) do not include one the runtime has: shipped
    expect(p.packages.map((x) => `${x.name} ${x.version}`)).toEqual(['git 2.40.1-1', 'pcre2 10.42-1.amzn2023']);
    expect(p.skew).toEqual([{ name: 'pcre2', runtimeVersion: '10.40-1.amzn2023.0.3', neededVersion: '10.42-1.amzn2023' }]);
    expect(p.notes[0]).toMatch(/git needs pcre2 10\.42-1\.amzn2023 .* the layer ships pcre2 10\.42-1\.amzn2023/);
    expect(p.fromRuntime).toEqual(['glibc']);
  });

  it("ships a newer library the runtime has a copy of: the programs' RPATH finds the layer's first, and the note says so", () => {
    const p = plan(
      [
        pkg('git', '2.40.1-1', { requires: [['libpcre2-8.so.0(PCRE2_10.42)(64bit)', ['pcre2']]] }),
        pkg('pcre2', '10.42-1.amzn2023', { provides: ['libpcre2-8.so.0()(64bit)', 'libpcre2-8.so.0(PCRE2_10.42)(64bit)'] }),
      ],
      ['git'],
    );
    expect(p.packages.map((x) => `${x.name} ${x.version}`)).toEqual(['git 2.40.1-1', 'pcre2 10.42-1.amzn2023']);
    expect(p.notes).toEqual([
      "git needs pcre2 10.42-1.amzn2023 (libpcre2-8.so.0(PCRE2_10.42)(64bit)), but the provided.al2023 runtime has pcre2 10.40-1.amzn2023.0.3; the layer ships pcre2 10.42-1.amzn2023, found first through the programs' RPATH",
    ]);
  });

  it('never ships the C library, and says which GLIBC version is needed and where it is', () => {
    let err: unknown;
    try {
      plan([pkg('tool', '1-1', { requires: [['libc.so.6(GLIBC_2.38)(64bit)', ['glibc']]] }), pkg('glibc', '2.38-1')], ['tool']);
    } catch (e) {
      err = e;
    }
    expect((err as Error).message).toMatch(/glibc cannot be shipped in a layer: its files must be the runtime's own \(GLIBC_2\.38\)$/);
    expect((err as { hint: string }).hint).toMatch(
      /^build for a runtime that has it \(--target debian13\), or make the layer self-contained, with its own C library \(--from debian13\)/,
    );
  });

  it('refuses a requirement nothing provides, rather than dropping it (a rich dependency may have none)', () => {
    // e.g. a file requirement whose provider the helper did not see
    expect(() => plan([pkg('tool', '1.0-1', { requires: [['/usr/share/tool/data', []]] })], ['tool'])).toThrow(
      'tool-1.0-1.x86_64 requires /usr/share/tool/data, which no package of the resolved closure provides and the provided.al2023 runtime does not have',
    );
    const p = plan(
      [
        pkg('tool', '1.0-1', {
          requires: [
            ['(tool-doc if man-db)', []],
            ['/usr/bin/tool', ['tool']],
          ],
        }),
      ],
      ['tool'],
    );
    expect(p.packages.map((x) => [x.name, x.depends])).toEqual([['tool', []]]);
  });

  it('follows a request for something a package provides to that package', () => {
    const p = plan([pkg('git-core', '2.40.1-1', { provides: ['git = 2.40.1-1'] })], ['git']);
    expect(p.packages.map((x) => [x.name, x.requested, x.requiredBy])).toEqual([['git-core', true, ['git-core']]]);
  });

  it('reports a requested package the runtime already has, instead of shipping it', () => {
    const p = plan([pkg('zlib', '1.2.11-33.amzn2023.0.4')], ['zlib']);
    expect(p.packages).toEqual([]);
    expect(p.fromRuntime).toEqual(['zlib']);
  });

  it('finds the sonames a package provides', () => {
    expect(sonameOf('libpcre2-8.so.0()(64bit)')).toBe('libpcre2-8.so.0');
    expect(sonameOf('libz.so.1(ZLIB_1.2.9)(64bit)')).toBe('libz.so.1');
    expect(sonameOf('libfoo.so')).toBe('libfoo.so');
    expect(sonameOf('pcre2 = 10.40')).toBeUndefined();
  });
});

describe('version skew decision', () => {
  const base: SkewCase = {
    name: 'base',
    runtimeVersion: '1.0-1',
    neededVersion: '1.1-1',
    requirement: 'libbase.so.1(BASE_1.1)(64bit)',
    requiredBy: 'newtool',
    libraries: ['libbase.so.1'],
    runtimeBound: false,
  };
  const ctx = { runtimeId: 'provided.al2023', runtimeLibraries: new Set(['libbase.so.1', 'libc.so.6']) };

  it('ships when nothing of the runtime shadows it', () => {
    expect(decideSkew({ ...base, libraries: ['libbase.so.2'] }, ctx)).toEqual({
      action: 'ship',
      note: expect.stringMatching(/the layer ships base 1\.1-1 \(the runtime has no libbase\.so\.2\)$/),
    });
    expect(decideSkew({ ...base, libraries: [] }, ctx).action).toBe('ship');
  });

  it("ships a library the runtime has too: the programs carry an RPATH to /opt/lib, found before the runtime's copy", () => {
    expect(decideSkew(base, ctx)).toEqual({ action: 'ship', note: expect.stringMatching(/found first through the programs' RPATH$/) });
  });

  it("always stops for packages that must be the runtime's own", () => {
    const d = decideSkew({ ...base, name: 'glibc', libraries: [], runtimeBound: true }, ctx);
    expect(d).toEqual({ action: 'stop', reason: expect.stringMatching(/glibc cannot be shipped in a layer/) });
  });
});

describe('rpm backend pieces', () => {
  const target = { id: 'al2023', packageManager: 'dnf', distro: { name: 'amzn', version: '2023', releasever: 'latest' } } as Target;

  it('reads --repo as a base URL or a mirror list', () => {
    expect(parseRpmRepo('https://mirror.example.com/al2023/x86_64/', 0)).toEqual({ id: 'repo1', url: 'https://mirror.example.com/al2023/x86_64/', gpgcheck: false });
    expect(parseRpmRepo('mirrorlist=https://cdn.example.com/mirror.list', 1)).toEqual({
      id: 'repo2',
      url: 'https://cdn.example.com/mirror.list',
      mirrorlist: true,
      gpgcheck: false,
    });
    expect(() => parseRpmRepo('ftp://x', 0)).toThrow(/expected a repository URL/);
  });

  it('shows repositories with $basearch and $releasever filled in', () => {
    const r = { id: 'amazonlinux', url: 'https://cdn.amazonlinux.com/al2023/core/mirrors/$releasever/$basearch/mirror.list', mirrorlist: true };
    expect(displayRepoUrl(r, 'aarch64', 'latest')).toBe('https://cdn.amazonlinux.com/al2023/core/mirrors/latest/aarch64/mirror.list (mirror list)');
  });

  it('describes the job for the helper: the rpm architecture, releasever, runtime NEVRs, pins', () => {
    const ctx = {
      target,
      arch: parseArch('arm64'),
      repositories: [{ id: 'amazonlinux', url: 'https://x/$basearch', mirrorlist: true }],
      runtime: {
        packages: [
          { name: 'gmp', version: '1:6.2.1-2.amzn2023.0.2', arch: 'x86_64' },
          { name: 'odd', version: 'noversion', arch: 'x86_64' },
        ],
      },
    } as unknown as ResolveContext;
    expect(rpmJob(ctx).pins).toEqual([]);
    expect(rpmJob(ctx)).toEqual({
      manager: 'dnf',
      installroot: '/yumda/root',
      cachedir: '/yumda/cache',
      releasever: 'latest',
      arch: 'aarch64',
      repos: [{ id: 'amazonlinux', url: 'https://x/$basearch', mirrorlist: true }],
      runtime: [{ name: 'gmp', epoch: 1, version: '6.2.1', release: '2.amzn2023.0.2' }],
      pins: [],
    });
    // a lock's versions: the epoch is exact (0 when the lock names none, unlike a runtime NEVR's "any")
    const pins = [
      { name: 'libgreet', version: '1.1-1', arch: 'aarch64' },
      { name: 'hello-data', version: '1:0.9-1', arch: 'noarch' },
      { name: 'not-rpm', version: '1.0', arch: 'aarch64' },
    ];
    expect(rpmJob({ ...ctx, pins }).pins).toEqual([
      { name: 'libgreet', epoch: 0, version: '1.1', release: '1', arch: 'aarch64' },
      { name: 'hello-data', epoch: 1, version: '0.9', release: '1', arch: 'noarch' },
    ]);
    expect(pinNevra(pins[2]!)).toBeUndefined();
  });

  it('orders the versions a repository offers as rpm does, newest first, each once', () => {
    const found = [
      { epoch: 0, version: '2.0', release: '1' },
      { epoch: 1, version: '0.9', release: '1' },
      { epoch: 0, version: '2.0', release: '1' },
      { epoch: 0, version: '2.0', release: '10.amzn2023' },
      { epoch: 0, version: '2.0~rc1', release: '1' },
      { epoch: 0, version: '10.0', release: '1' },
    ];
    expect(newestFirst(found)).toEqual(['1:0.9-1', '10.0-1', '2.0-10.amzn2023', '2.0-1', '2.0~rc1-1']);
    // a range on the upstream version then picks from them (pipeline/build.ts): ^2 takes 2.0 over
    // the epoch-1 0.9 rpm calls newer
    expect(pickUpstream(newestFirst(found), '^2')).toBe('2.0-10.amzn2023');
    expect(pickUpstream(newestFirst(found), '<1')).toBe('1:0.9-1');
  });

  it('explains failures in one line', () => {
    expect(explainRpmFailure('not-found', 'no package matches nope', 'al2023', { name: 'nope' })).toBe("package 'nope' was not found in the al2023 repositories");
    expect(explainRpmFailure('not-found', 'no package matches git-9', 'al2023', { name: 'git', version: '9' })).toBe(
      "version 9 of package 'git' was not found in the al2023 repositories",
    );
    // dnf 4's depsolve message, as printed
    const msg = 'Problem: conflicting requests\n  - nothing provides libfoo.so.2()(64bit) needed by tool-1.0-1.x86_64';
    expect(explainRpmFailure('unsatisfiable', msg, 'al2023')).toBe('the packages cannot be installed together: nothing provides libfoo.so.2()(64bit) needed by tool-1.0-1.x86_64');
  });

  it("says when a missing capability is the runtime's: the repositories lack the distribution", () => {
    const ctx = { runtime, arch: parseArch('x86_64') } as unknown as ResolveContext;
    expect(missingFromRuntimeHint('  - nothing provides rtld(GNU_HASH) needed by python2.7-2.7.18-41.amzn2023.0.9.x86_64', ctx)).toMatch(
      /^rtld\(GNU_HASH\) comes from glibc, which the provided\.al2023 runtime has/,
    );
    expect(missingFromRuntimeHint('  - nothing provides libfoo.so.2()(64bit) needed by tool-1', ctx)).toBeUndefined();
  });

  it("reads the helper's JSON, or reports its crash", () => {
    expect(parseHelperOutput('noise\n{"repos": {"a": 3}}\n', '', 0, 'x')).toEqual({ repos: { a: 3 } });
    expect(parseHelperOutput('{"error": {"kind": "repo", "message": "m"}}', '', 3, 'x')).toEqual({ error: { kind: 'repo', message: 'm' } });
    expect(() => parseHelperOutput('', 'Traceback\nImportError: No module named dnf', 1, 'dnf (resolving)')).toThrow(
      'dnf (resolving) failed (exit 1): Traceback ImportError: No module named dnf',
    );
    let thrown: unknown;
    expect(() => {
      try {
        parseHelperOutput('', 'python3: not found', 127, 'dnf (reading repositories)');
      } catch (e) {
        thrown = e;
        throw e;
      }
    }).toThrow('dnf (reading repositories) failed (exit 127): python3: not found');
    expect(isUserError(thrown) && thrown.hint).toMatch(/needs dnf \(python3 with the dnf module\)/);
  });

  describe("reports the helper's errors the same way from every command", () => {
    const target = { id: 'al2', packageManager: 'yum', distro: { name: 'amzn', version: '2', releasever: '2' } };
    const ctx = {
      target,
      runtime,
      arch: parseArch('x86_64'),
      repositories: [{ id: 'amzn2-core', url: 'https://cdn.amazonlinux.com/2/core/latest/$basearch/mirror.list', mirrorlist: true }],
    } as unknown as ResolveContext;
    it.each<[HelperError, string, RegExp | undefined]>([
      // the helper's catch-all, from yum's URLGrabError while resolving (file lists are fetched on first use)
      [
        { kind: 'repo', message: '[Errno 14] curl#6 - "Could not resolve host: cdn.amazonlinux.com"', exception: 'URLGrabError' },
        'cannot read the al2 package repositories: [Errno 14] curl#6 - "Could not resolve host: cdn.amazonlinux.com"',
        /cdn\.amazonlinux\.com\/2\/core\/latest\/x86_64\/mirror\.list \(mirror list\); check the network/,
      ],
      [
        { kind: 'download', message: 'tool-1.0-1.x86_64: [Errno 12] Timeout\nmore', exception: 'URLGrabError' },
        'downloading the packages failed: tool-1.0-1.x86_64: [Errno 12] Timeout',
        /check the network/,
      ],
      [{ kind: 'internal', message: "'releasever'", exception: 'KeyError' }, "yumda's rpm helper failed: KeyError: 'releasever'", /a bug in yumda/],
      [
        { kind: 'unsatisfiable', message: 'tool-1.0-1.x86_64 requires /usr/share/fonts/Café.ttf' },
        'the packages cannot be installed together: tool-1.0-1.x86_64 requires /usr/share/fonts/Café.ttf',
        undefined,
      ],
    ])('%o', (err, message, hint) => {
      const e = helperError(err, ctx);
      expect(e.message).toBe(message);
      if (hint) expect(e.hint).toMatch(hint);
      else expect(e.hint).toBeUndefined();
    });
    it('every spec the helper found nothing for, in one line (issue 19, item 14)', () => {
      const specs = ['a', 'b', 'git-9', 'c', 'd', 'e', 'f'];
      const e = helperError({ kind: 'not-found', message: 'no package matches a, b, git-9, c, d and 2 more', spec: 'a', specs }, ctx, [
        ...specs.filter((s) => s !== 'git-9').map((name) => ({ name })),
        { name: 'git', version: '9' },
      ]);
      expect(e).toBeInstanceOf(NotFoundError);
      expect(e.message).toBe("7 of the requested packages were not found in the al2 repositories: 'a', 'b', 'git=9', 'c', 'd' and 2 more");
    });
    it('names the request a not-found error is about', () => {
      expect(helperError({ kind: 'not-found', message: 'no package matches git-9', spec: 'git-9' }, ctx, [{ name: 'git', version: '9' }]).message).toBe(
        "version 9 of package 'git' was not found in the al2 repositories",
      );
    });
  });

  it('unpacks with rpm2cpio and cpio, never above the root, checking signatures only where asked', () => {
    const s = stageScript(['/yumda/rpms/a.rpm', "/yumda/rpms/b'c.rpm"], [{ file: '/yumda/rpms/a.rpm', key: '/etc/pki/rpm-gpg/KEY' }]);
    // the keys are imported, and only the packages of repositories that ask are checked: a, not b
    expect(s).toContain('keys=/yumda/keys\n');
    expect(s).toContain('key_files=(/etc/pki/rpm-gpg/KEY)\n');
    expect(s).toContain('rpmkeys --dbpath "$keys" --import "$key"');
    expect(s).toContain('signed=(/yumda/rpms/a.rpm)\n');
    expect(s).toContain('--checksig "$f"');
    expect(s).toContain("files=(/yumda/rpms/a.rpm '/yumda/rpms/b'\\''c.rpm')\n");
    expect(s).toContain("cpio -idm --quiet --no-absolute-filenames -f './usr/lib/.build-id' './usr/lib/.build-id/*'");
    expect(s).not.toMatch(/rpm -i|--scripts/);
  });
});

describe('rpm runtime inventory', () => {
  it('keeps full provides with versions, which decide skew', () => {
    const out = [
      '##packages',
      'zlib\t1.2.11-33.amzn2023.0.4\tx86_64\tzlib-1.2.11-33.amzn2023.0.4.src.rpm\t\tlibz.so.1()(64bit)|libz.so.1(ZLIB_1.2.9)(64bit)|zlib = 1.2.11-33.amzn2023.0.4|',
      'gmp\t1:6.2.1-2.amzn2023.0.2\tx86_64\tgmp-6.2.1-2.amzn2023.0.2.src.rpm\t\t',
      'gpg-pubkey\td832c631-63977702\t(none)\t(none)\t\t',
      '##libraries',
      'libz.so.1',
      '##paths',
      'libc.so.6\t/usr/lib64/libc.so.6',
      'libstdc++.so.6\t/usr/lib64/libstdc++.so.6.0.29',
      'libz.so.1\t/usr/lib64/libz.so.1.2.11',
      '##shell',
      '/bin/sh',
    ].join('\n');
    expect(parseInventory(out, 'rpm')).toEqual({
      packages: [
        { name: 'gmp', version: '1:6.2.1-2.amzn2023.0.2', arch: 'x86_64' },
        { name: 'zlib', version: '1.2.11-33.amzn2023.0.4', arch: 'x86_64', provides: ['libz.so.1()(64bit)', 'libz.so.1(ZLIB_1.2.9)(64bit)', 'zlib = 1.2.11-33.amzn2023.0.4'] },
      ],
      libraries: ['libz.so.1'],
      shell: '/bin/sh',
      // the C and C++ runtime's files, read for their symbol versions; other libraries are not
      cRuntimeFiles: [
        { soname: 'libc.so.6', path: '/usr/lib64/libc.so.6' },
        { soname: 'libstdc++.so.6', path: '/usr/lib64/libstdc++.so.6.0.29' },
      ],
    });
  });
});

describe('optional repositories (SPAL)', () => {
  it("--repo spal (and a manifest repo named spal) enables the target's SPAL; a name it lacks is refused", async () => {
    const { parseRepos } = await import('../../src/pipeline/build.js');
    const { loadTarget } = await import('../../src/registry/load.js');
    const al2023 = loadTarget('al2023');
    expect(parseRepos(al2023, ['spal', 'https://mirror.example/al2023/'])).toEqual([
      { id: 'amazonlinux-spal', release: 'spal-release', supportNote: 'SPAL packages have no AWS support and no AWS CVE tracking' },
      { id: 'repo2', url: 'https://mirror.example/al2023/', gpgcheck: false },
    ]);
    expect(() => parseRepos(loadTarget('al2'), ['spal'])).toThrow("--repo 'spal': al2 has no repository of that name");
    expect(() => parseRepos(loadTarget('debian12'), ['spal'])).toThrow("--repo 'spal': debian12 has no repository of that name");
  });

  it('the job names a release-package repository by its package; the helper configures it in the container', async () => {
    const { rpmJob, displayRepoUrl } = await import('../../src/backends/rpm/helper.js');
    const spal = { id: 'amazonlinux-spal', release: 'spal-release' };
    const { loadRuntime, loadTarget } = await import('../../src/registry/load.js');
    const base = { target: loadTarget('al2023'), runtime: loadRuntime('provided.al2023'), arch: parseArch('x86_64') };
    expect(rpmJob({ ...base, repositories: [{ id: 'core', url: 'https://core.example/' }, spal] }).repos).toEqual([
      { id: 'core', url: 'https://core.example/', mirrorlist: false },
      { id: 'amazonlinux-spal', release: 'spal-release' },
    ]);
    expect(displayRepoUrl(spal, 'x86_64', 'latest')).toBe('amazonlinux-spal (configured by spal-release) from the other repositories, as its vendor documents');
  });

  it("a release's own repository names map to yumda's id for it", async () => {
    const { releaseRepoIds } = await import('../../src/backends/rpm/helper.js');
    expect(releaseRepoIds({ 'amazonlinux-spal': { package: 'spal-release-1-1.noarch', repos: ['amazonlinux-spal', 'spal-extra'], gpgcheck: true, keys: [] } })).toEqual(
      new Map([
        ['amazonlinux-spal', 'amazonlinux-spal'],
        ['spal-extra', 'amazonlinux-spal'],
      ]),
    );
  });

  it.each([
    [
      'SPAL has it under another name',
      [{ name: 'spal', found: { name: 'ffmpeg-free', evr: '7.1-1.spal2023' }, supportNote: 'no AWS support' }],
      {
        also: '; SPAL has it (as ffmpeg-free 7.1-1.spal2023)',
        hint: '--repo spal enables SPAL (no AWS support), or --from debian13 takes it from debian13, in a layer with its own C library',
      },
    ],
    ['SPAL lacks it', [{ name: 'spal' }], { also: ', nor in SPAL', hint: '--from debian13 takes it from debian13, in a layer with its own C library' }],
    [
      'SPAL could not be read',
      [{ name: 'spal', error: 'Cannot download repomd.xml' }],
      {
        also: '',
        hint: 'SPAL could not be read to look (Cannot download repomd.xml); --repo spal may have it; --from debian13 takes it from debian13, in a layer with its own C library',
      },
    ],
  ] as const)('a package not found: %s', async (_, optional, expected) => {
    const { notFoundHint } = await import('../../src/backends/rpm/resolve.js');
    expect(notFoundHint('ffmpeg', [...optional], 'debian13')).toEqual(expected);
  });

  it('the plan says once, per repository, that its packages have no AWS support', async () => {
    const { supportNotes, formatPlan } = await import('../../src/cli/ui.js');
    const { loadTarget } = await import('../../src/registry/load.js');
    const pkg = (name: string, repository: string) => ({
      name,
      version: '1-1',
      arch: 'x86_64',
      downloadSize: 1,
      installedSize: 1024,
      requiredBy: ['a'],
      requested: name === 'a',
      provides: [],
      depends: [],
      repository,
    });
    const repositories = [{ id: 'amazonlinux', url: 'https://core.example/' }, ...loadTarget('al2023').optionalRepositories!.map((o) => o.repository)];
    const plan = { packages: [pkg('a', 'amazonlinux-spal'), pkg('b', 'amazonlinux-spal'), pkg('c', 'amazonlinux')], fromRuntime: [], skew: [] };
    expect(supportNotes(plan, repositories)).toEqual(['amazonlinux-spal: 2 packages; SPAL packages have no AWS support and no AWS CVE tracking']);
    const text = formatPlan(plan, { target: loadTarget('al2023'), arch: parseArch('x86_64'), image: 'img', repositories }, { sources: false });
    expect(text.split('\n').slice(1)).toEqual([
      '  PACKAGE  VERSION  SIZE     PULLED IN BY  REPOSITORY',
      '  a        1-1      1.0 KiB  (requested)   amazonlinux-spal',
      '  b        1-1      1.0 KiB  a             amazonlinux-spal',
      '  c        1-1      1.0 KiB  a             amazonlinux',
      '  amazonlinux-spal: 2 packages; SPAL packages have no AWS support and no AWS CVE tracking',
    ]);
    // without SPAL packages, no column and no note
    expect(
      formatPlan({ ...plan, packages: [pkg('c', 'amazonlinux')] }, { target: loadTarget('al2023'), arch: parseArch('x86_64'), image: 'img', repositories }, { sources: false }),
    ).not.toMatch(/REPOSITORY|AWS support/);
  });
});
