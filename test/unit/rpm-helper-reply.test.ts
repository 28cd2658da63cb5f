/**
 * The rpm helper's replies against schema/rpm-helper-reply.schema.json. The valid replies are real:
 * images/helpers/yumda_rpm.py run by Debian 12's dnf 4 (the rpm-build-standin image) on a
 * repository made with rpmbuild and createrepo_c (a package, the library it needs, and a release
 * package that configures a signed repository, as SPAL's does), cut to one or two entries where
 * they were long; the yum ones come from the helper run against test/fakes/rpm (rpm-helper.test.ts
 * checks every reply of those runs too).
 */
import { describe, expect, it } from 'vitest';
import { rpmBackend } from '../../src/backends/rpm/resolve.js';
import { checkHelperReply } from '../../src/backends/rpm/helper-reply.js';
import type { ResolveContext } from '../../src/resolve/backend.js';
import type { Runner } from '../../src/runner/types.js';
import { isUserError } from '../../src/util/errors.js';

const RELEASES = {
  'amazonlinux-spal': {
    gpgcheck: true,
    keys: ['/yumda/cache/release/spal-release-2023-1.amzn2023.noarch/etc/pki/rpm-gpg/RPM-GPG-KEY-spal'],
    package: 'spal-release-2023-1.amzn2023.noarch',
    repos: ['spal'],
  },
};

const HELLO = {
  arch: 'x86_64',
  checksum: { type: 'sha256', value: '8bae51605ce3cb41fbb95253a7dae2b73f3d4186c3cc39cdd0ace1bc0b4aee71' },
  downloadSize: 5665,
  epoch: 1,
  installedSize: 0,
  license: 'Apache-2.0',
  location: 'hello-1.2-3.amzn2023.x86_64.rpm',
  name: 'hello',
  provides: ['hello = 1:1.2-3.amzn2023', 'hello(x86-64) = 1:1.2-3.amzn2023'],
  release: '3.amzn2023',
  repo: 'thirdparty',
  requires: [
    { dep: 'libgreet.so.1()(64bit)', providers: ['libgreet'] },
    { dep: '/usr/lib64/libgreet.so.1', providers: ['libgreet'] },
  ],
  sourcerpm: 'libgreet-1.2-3.amzn2023.src.rpm',
  version: '1.2',
};

const RESOLVED = {
  packages: [HELLO],
  pins: { applied: [], missing: [] },
  runtimeProvides: { libgreet: ['libgreet.so.1()(64bit)', 'libgreet = 1:1.2-3.amzn2023', 'libgreet(x86-64) = 1:1.2-3.amzn2023'] },
};

const VALID: Array<[string, string, unknown]> = [
  ['refresh, fetched', 'refresh', { cachedAgeSeconds: null, repos: { thirdparty: 3 } }],
  ['refresh, from the cache', 'refresh', { cachedAgeSeconds: 42, repos: { thirdparty: 3 } }],
  ['refresh, with a release package', 'refresh', { cachedAgeSeconds: null, releases: RELEASES, repos: { spal: 3, thirdparty: 3 } }],
  ['resolve', 'resolve', RESOLVED],
  ['resolve, a package without checksum, source or license', 'resolve', { ...RESOLVED, packages: [{ ...HELLO, checksum: null, sourcerpm: null, license: null }] }],
  ['resolve, pinned', 'resolve', { ...RESOLVED, pins: { applied: ['liba'], missing: ['gone'] } }],
  ['versions', 'versions', { versions: [{ arch: 'x86_64', epoch: 1, release: '3.amzn2023', version: '1.2' }] }],
  ['provides', 'provides', { packages: [{ arch: 'x86_64', evr: '1:1.2-3.amzn2023', name: 'libgreet', repo: 'thirdparty' }] }],
  [
    'search, with a release package',
    'search',
    { packages: [{ arch: 'x86_64', evr: '1:1.2-3.amzn2023', name: 'libgreet', repo: 'spal', summary: 'A greeting library' }], releases: RELEASES },
  ],
  ['names', 'names', { names: ['hello', 'libgreet', 'spal-release'] }],
  ['download', 'download', { files: ['/yumda/rpms/hello-1.2-3.amzn2023.x86_64.rpm'] }],
  ['download, nothing to fetch', 'download', { files: [] }],
  ['error: not-found', 'resolve', { error: { kind: 'not-found', message: 'no package matches nope', spec: 'nope', specs: ['nope'] } }],
  [
    'error: unsatisfiable',
    'resolve',
    { error: { kind: 'unsatisfiable', message: '\n Problem: conflicting requests\n  - nothing provides rtld(GNU_HASH) needed by python2.7-2.7.18-41.amzn2023.0.9.x86_64' } },
  ],
  [
    'error: the catch-all',
    'download',
    { error: { exception: 'FileNotFoundError', kind: 'download', message: "[Errno 2] No such file or directory: '/nope/hello-1.2-3.amzn2023.x86_64.rpm'" } },
  ],
  ['error: internal', 'refresh', { error: { kind: 'internal', message: "'releasever'", exception: 'KeyError' } }],
  ['error: release (yum)', 'refresh', { error: { kind: 'release', message: 'repository amazonlinux-spal is configured by a release package', release: 'spal-release' } }],
];

const SCHEMA = 'schema/rpm-helper-reply.schema.json';
const HINT = /the helper is part of yumda \(images\/helpers\/yumda_rpm\.py\), so this is a bug in yumda or a damaged build image/;

const INVALID: Array<[string, string, unknown, string]> = [
  // missing fields
  [
    'refresh without cachedAgeSeconds',
    'refresh',
    { repos: { thirdparty: 3 } },
    "the rpm helper's 'refresh' reply does not match SCHEMA: missing required field 'cachedAgeSeconds'",
  ],
  [
    'a resolved package without its epoch',
    'resolve',
    { ...RESOLVED, packages: [HELLO, { ...HELLO, epoch: undefined }] },
    "the rpm helper's 'resolve' reply does not match SCHEMA: in 'packages.1': missing required field 'epoch'",
  ],
  [
    'a requirement without providers',
    'resolve',
    { ...RESOLVED, packages: [{ ...HELLO, requires: [{ dep: 'libgreet.so.1()(64bit)' }] }] },
    "the rpm helper's 'resolve' reply does not match SCHEMA: in 'packages.0.requires.0': missing required field 'providers'",
  ],
  [
    'an error without its message',
    'resolve',
    { error: { kind: 'repo' } },
    "the rpm helper's error reply to 'resolve' does not match SCHEMA: in 'error': missing required field 'message'",
  ],
  // wrong types
  [
    'an epoch as text',
    'versions',
    { versions: [{ arch: 'x86_64', epoch: '1', release: '3', version: '1.2' }] },
    "the rpm helper's 'versions' reply does not match SCHEMA: field 'versions.0.epoch' must be integer",
  ],
  [
    'a fractional size',
    'resolve',
    { ...RESOLVED, packages: [{ ...HELLO, downloadSize: 5665.5 }] },
    "the rpm helper's 'resolve' reply does not match SCHEMA: field 'packages.0.downloadSize' must be integer",
  ],
  ['an age as text', 'refresh', { cachedAgeSeconds: '42', repos: {} }, "the rpm helper's 'refresh' reply does not match SCHEMA: field 'cachedAgeSeconds' must be integer,null"],
  [
    'a count as text',
    'refresh',
    { cachedAgeSeconds: null, repos: { thirdparty: '3' } },
    "the rpm helper's 'refresh' reply does not match SCHEMA: field 'repos.thirdparty' must be integer",
  ],
  [
    'gpgcheck as a number',
    'download',
    { files: [], releases: { spal: { ...RELEASES['amazonlinux-spal'], gpgcheck: 1 } } },
    "the rpm helper's 'download' reply does not match SCHEMA: field 'releases.spal.gpgcheck' must be boolean",
  ],
  [
    'an error kind the helper never answers',
    'download',
    { error: { kind: 'network', message: 'm' } },
    'the rpm helper\'s error reply to \'download\' does not match SCHEMA: field \'error.kind\' must be one of "repo", "not-found", "unsatisfiable", "download", "release", "internal"',
  ],
  // extra nesting
  ['versions inside versions', 'versions', { versions: { versions: [] } }, "the rpm helper's 'versions' reply does not match SCHEMA: field 'versions' must be array"],
  ['names as lists', 'names', { names: [['hello']] }, "the rpm helper's 'names' reply does not match SCHEMA: field 'names.0' must be string"],
  [
    'the resolution wrapped once more',
    'resolve',
    { packages: { packages: [HELLO] }, pins: RESOLVED.pins, runtimeProvides: {} },
    "the rpm helper's 'resolve' reply does not match SCHEMA: field 'packages' must be array",
  ],
  [
    'an error inside an error',
    'refresh',
    { error: { error: { kind: 'repo', message: 'm' } } },
    "the rpm helper's error reply to 'refresh' does not match SCHEMA: in 'error': missing required field 'kind'",
  ],
  // what the helper never sends
  ['a field of another reply', 'download', { files: [], packages: [] }, "the rpm helper's 'download' reply does not match SCHEMA: unknown field 'packages'"],
  ['the reply of another command', 'versions', { names: ['hello'] }, "the rpm helper's 'versions' reply does not match SCHEMA: missing required field 'versions'"],
  ['not an object', 'names', ['hello'], "the rpm helper's 'names' reply does not match SCHEMA: the document must be object"],
];

describe("the rpm helper's replies are checked against their schema on receipt", () => {
  it.each(VALID)('accepts a real reply: %s', (_, command, reply) => {
    expect(checkHelperReply(command, reply)).toBe(reply);
  });

  it.each(INVALID)('refuses %s, in one line naming the reply and the field', (_, command, reply, line) => {
    let thrown: unknown;
    try {
      checkHelperReply(command, JSON.parse(JSON.stringify(reply)));
    } catch (e) {
      thrown = e;
    }
    expect(isUserError(thrown), String(thrown)).toBe(true);
    const err = thrown as Error & { hint?: string };
    expect(err.message).toBe(line.replace('SCHEMA', SCHEMA));
    expect(err.hint).toMatch(HINT);
  });

  it('has no answer for a command the helper does not have', () => {
    expect(() => checkHelperReply('install', { packages: [] })).toThrow("no schema for the rpm helper's reply to 'install'");
  });

  it('is what the backend does with every answer: a malformed one stops the command', async () => {
    const runner: Runner = {
      exec: async () => ({ exitCode: 0, stdout: '{"names": "hello"}\n', stderr: '' }),
      putArchive: async () => undefined,
      getArchive: async () => {
        throw new Error('not used');
      },
    };
    const ctx = { target: { id: 'al2023', packageManager: 'dnf' } } as unknown as ResolveContext;
    await expect(rpmBackend.packageNames!(runner, ctx, () => undefined)).rejects.toThrow(`the rpm helper's 'names' reply does not match ${SCHEMA}: field 'names' must be array`);
  });
});
