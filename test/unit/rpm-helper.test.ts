/**
 * The rpm helper (images/helpers/yumda_rpm.py) run as yumda runs it in a build container, under
 * Python 2.7 (AL2's yum) and Python 3 (dnf), against stand-in `yum` and `dnf` modules
 * (test/fakes/rpm) that model the APIs the helper uses and record its calls. No Amazon Linux image
 * can run here, and Debian has no yum.
 */
import { existsSync, mkdirSync, readFileSync, utimesSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { HELPER_SOURCE } from '../../src/backends/rpm/helper.js';
import { checkHelperReply } from '../../src/backends/rpm/helper-reply.js';
import { repoRoot, run } from '../helpers/cli.js';
import { findPython27, findPython3 } from '../helpers/python.js';
import { tempDir } from '../helpers/tmp.js';

const FAKES = path.join(repoRoot, 'test/fakes/rpm');

interface Pkg {
  name: string;
  version: string;
  release: string;
  arch: string;
  epoch?: number;
  provides?: string[];
  requires?: string[];
  obsoletes?: string[];
  files?: string[];
}
interface Scenario {
  repos: Record<string, Pkg[]>;
  raise?: Record<string, { class: string; args: unknown[] }>;
  downloadErrors?: Record<string, string>;
  librepoLog?: string[];
}
interface Answer {
  code: number;
  stderr: string;
  /** The helper's JSON answer (its last line), undefined when it printed none. */
  // biome-ignore lint/suspicious/noExplicitAny: the helper's answers differ per command; each test reads the fields it checks
  json: any;
  records: Array<{ call: string; locked: boolean; [k: string]: unknown }>;
}

const pkg = (name: string, evr: string, arch: string, more: Partial<Pkg> = {}): Pkg => {
  const [version, release] = evr.split('-') as [string, string];
  return { name, version, release, arch, ...more };
};

/** Runs `python yumda_rpm.py CMD JOB ARGS...` with the stand-ins first on sys.path. */
async function helper(
  python: string,
  manager: 'yum' | 'dnf',
  scenario: Scenario,
  cmd: string,
  args: string[] = [],
  opts: { pins?: unknown[]; job?: Record<string, unknown>; before?: (cache: string) => void; env?: Record<string, string> } = {},
): Promise<Answer> {
  const dir = tempDir('yumda-rpm-helper-');
  const cache = path.join(dir, 'cache');
  mkdirSync(path.join(cache, 'log'), { recursive: true });
  opts.before?.(cache);
  const job = {
    manager,
    installroot: path.join(dir, 'root'),
    cachedir: cache,
    releasever: '2',
    arch: 'x86_64',
    repos: [{ id: 'r1', url: 'http://repo.example/r1/', mirrorlist: false }],
    runtime: [],
    pins: opts.pins ?? [],
    ...opts.job,
  };
  writeFileSync(path.join(dir, 'job.json'), JSON.stringify(job));
  writeFileSync(path.join(dir, 'scenario.json'), JSON.stringify(scenario));
  const record = path.join(dir, 'record.jsonl');
  const r = await run(python, [HELPER_SOURCE, cmd, path.join(dir, 'job.json'), ...args], {
    cwd: dir,
    env: {
      PATH: process.env.PATH,
      HOME: dir,
      LC_ALL: 'C.UTF-8',
      PYTHONPATH: FAKES,
      PYTHONDONTWRITEBYTECODE: '1',
      YUMDA_FAKE_SCENARIO: path.join(dir, 'scenario.json'),
      YUMDA_FAKE_RECORD: record,
      YUMDA_FAKE_LOCK: path.join(cache, '.yumda-lock'),
      ...opts.env,
    },
  });
  const last = r.stdout.trim().split('\n').pop() ?? '';
  let json: unknown;
  try {
    json = JSON.parse(last);
  } catch {
    json = undefined;
  }
  // every reply these runs give is one yumda must accept: the schema and the helper agree
  if (json !== undefined) checkHelperReply(cmd, json);
  const records = existsSync(record)
    ? readFileSync(record, 'utf8')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l))
    : [];
  return { code: r.code, stderr: r.stderr, json, records };
}

const python27 = findPython27();
const python3 = findPython3();
const interpreters = [
  {
    label: 'Python 2.7',
    bin: python27,
    missing: "no Python 2.7 found through pyenv ($PYENV_ROOT, `pyenv root`, ~/.pyenv, /root/.pyenv): the helper is not tested on the Python of AL2's yum",
  },
  { label: 'Python 3', bin: python3, missing: 'no python3 on PATH' },
];
const managers = ['yum', 'dnf'] as const;

for (const py of interpreters) {
  if (!py.bin) {
    // vitest prints skipped tests without a reason: say why on the console too
    console.warn(`rpm helper tests under ${py.label} skipped: ${py.missing}`);
  }
  describe.skipIf(!py.bin)(`rpm helper under ${py.label}${py.bin ? '' : ` (skipped: ${py.missing})`}`, () => {
    const bin = py.bin!;

    it.each(managers)('%s: resolves a closure, each requirement with its providers, file requirements from the full file lists', async (m) => {
      // /usr/share/... is not in yum's primary metadata (only /etc and */bin/* are)
      const scenario = {
        repos: {
          r1: [
            pkg('tool', '2.0-1', 'x86_64', { requires: ['libfoo.so.1()(64bit)', '/usr/share/tool/data', '/usr/bin/helper'] }),
            pkg('libfoo', '1.0-1', 'x86_64', { provides: ['libfoo.so.1()(64bit)'] }),
            pkg('tool-data', '1.0-1', 'noarch', { files: ['/usr/share/tool/data'] }),
            pkg('helper', '1.0-1', 'x86_64', { files: ['/usr/bin/helper'] }),
          ],
        },
      };
      const r = await helper(bin, m, scenario, 'resolve', ['tool']);
      expect(r.code, r.stderr).toBe(0);
      const tool = r.json.packages.find((p: { name: string }) => p.name === 'tool');
      expect(tool.requires).toEqual([
        { dep: 'libfoo.so.1()(64bit)', providers: ['libfoo'] },
        { dep: '/usr/share/tool/data', providers: ['tool-data'] },
        { dep: '/usr/bin/helper', providers: ['helper'] },
      ]);
      expect(r.json.packages.map((p: { name: string }) => p.name)).toEqual(['helper', 'libfoo', 'tool', 'tool-data']);
    });

    it.each(managers)('%s: a pinned package stays, though another package obsoletes it', async (m) => {
      const scenario = {
        repos: {
          r1: [
            pkg('tool', '1.0-1', 'x86_64', { requires: ['liba'] }),
            pkg('liba', '1.0-1', 'x86_64'),
            pkg('liba', '1.1-1', 'x86_64'),
            pkg('libb', '2.0-1', 'x86_64', { provides: ['liba = 2.0-1'], obsoletes: ['liba < 2.0'] }),
          ],
        },
      };
      const pins = [{ name: 'liba', epoch: 0, version: '1.0', release: '1', arch: 'x86_64' }];
      const r = await helper(bin, m, scenario, 'resolve', ['tool'], { pins });
      expect(r.code, r.stderr).toBe(0);
      expect(r.json.packages.map((p: { name: string; version: string }) => `${p.name}-${p.version}`)).toEqual(['liba-1.0', 'tool-1.0']);
      expect(r.json.pins).toEqual({ applied: ['liba'], missing: [] });
    });

    it("yum: a request installs the machine's architecture only (multilib_policy best), not i686 beside x86_64", async () => {
      const scenario = { repos: { r1: [pkg('zlib', '1.2-1', 'x86_64'), pkg('zlib', '1.2-1', 'i686')] } };
      const r = await helper(bin, 'yum', scenario, 'resolve', ['zlib']);
      expect(r.code, r.stderr).toBe(0);
      expect(r.json.packages.map((p: { name: string; arch: string }) => `${p.name}.${p.arch}`)).toEqual(['zlib.x86_64']);
    });

    it.each(managers)('%s: every request nothing matches is named in one answer, not only the first (issue 19, item 14)', async (m) => {
      const scenario = { repos: { r1: [pkg('tool', '1.0-1', 'x86_64')] } };
      const r = await helper(bin, m, scenario, 'resolve', ['nope1', 'tool', 'nope2', 'nope3']);
      expect(r.code).toBe(3);
      expect(r.json).toEqual({ error: { kind: 'not-found', message: 'no package matches nope1, nope2, nope3', spec: 'nope1', specs: ['nope1', 'nope2', 'nope3'] } });
    });

    it.each(managers)("%s: names lists every package name of the repositories once, the machine's architecture and noarch (for not-found suggestions)", async (m) => {
      const scenario = {
        repos: {
          r1: [pkg('jq', '1.7-1', 'x86_64'), pkg('jq', '1.6-1', 'x86_64'), pkg('jq-devel', '1.7-1', 'x86_64'), pkg('tzdata', '2025a-1', 'noarch'), pkg('only32', '1.0-1', 'i686')],
        },
      };
      const r = await helper(bin, m, scenario, 'names');
      expect(r.code, r.stderr).toBe(0);
      expect(r.json).toEqual({ names: ['jq', 'jq-devel', 'tzdata'] });
    });

    it.each(managers)('%s: refresh says whether the metadata came from the cache: its stamp younger than the max age (issue 19, item 16)', async (m) => {
      const scenario = { repos: { r1: [pkg('tool', '1.0-1', 'x86_64')] } };
      const env = { YUMDA_METADATA_MAX_AGE: '3600' };
      const stamp = (age: number) => (cache: string) => {
        writeFileSync(path.join(cache, '.yumda-updated'), '');
        const t = Date.now() / 1000 - age;
        utimesSync(path.join(cache, '.yumda-updated'), t, t);
      };
      expect((await helper(bin, m, scenario, 'refresh', [], { env })).json).toEqual({ repos: { r1: 1 }, cachedAgeSeconds: null });
      expect((await helper(bin, m, scenario, 'refresh', [], { env, before: stamp(7200) })).json).toEqual({ repos: { r1: 1 }, cachedAgeSeconds: null });
      const fresh = (await helper(bin, m, scenario, 'refresh', [], { env, before: stamp(600) })).json;
      expect(fresh.cachedAgeSeconds).toBeGreaterThanOrEqual(600);
      expect(fresh.cachedAgeSeconds).toBeLessThan(700);
      expect((await helper(bin, m, scenario, 'refresh', [], { env: { YUMDA_METADATA_MAX_AGE: '0' }, before: stamp(600) })).json.cachedAgeSeconds).toBeNull();
    });

    it('dnf: the newest version of a request or an error (best), never a silent older one', async () => {
      const scenario = { repos: { r1: [pkg('tool', '2.0-1', 'x86_64', { requires: ['libgone.so.3()(64bit)'] }), pkg('tool', '1.0-1', 'x86_64')] } };
      const r = await helper(bin, 'dnf', scenario, 'resolve', ['tool']);
      expect(r.json).toEqual({
        error: { kind: 'unsatisfiable', message: 'Problem: cannot install the best candidate for the job\n  - nothing provides libgone.so.3()(64bit) needed by tool-2.0-1.x86_64' },
      });
      expect(r.code).toBe(3);
    });

    it('yum: non-ASCII messages (unicode under Python 2) are reported, not a UnicodeEncodeError', async () => {
      const scenario = { repos: { r1: [pkg('tool', '1.0-1', 'x86_64', { requires: ['/usr/share/fonts/Café.ttf'] })] } };
      const r = await helper(bin, 'yum', scenario, 'resolve', ['tool']);
      expect(r.json, r.stderr).toEqual({ error: { kind: 'unsatisfiable', message: 'tool-1.0-1.x86_64 requires /usr/share/fonts/Café.ttf' } });
      const d = await helper(
        bin,
        'yum',
        { repos: { r1: [pkg('tool', '1.0-1', 'x86_64')] }, downloadErrors: { tool: 'curl#37 - "Couldn\'t open file /srv/dépôt/tool-1.0-1.x86_64.rpm"' } },
        'download',
        [os.tmpdir(), 'tool-1.0-1.x86_64'],
      );
      expect(d.json, d.stderr).toEqual({ error: { kind: 'download', message: 'tool-1.0-1.x86_64: curl#37 - "Couldn\'t open file /srv/dépôt/tool-1.0-1.x86_64.rpm"' } });
    });

    it.each(managers)("%s: only refresh counts the repositories' packages", async (m) => {
      const scenario = { repos: { r1: [pkg('tool', '1.0-1', 'x86_64'), pkg('other', '1.0-1', 'noarch')] } };
      const counted = (r: Answer) => r.records.filter((x) => x.call === (m === 'yum' ? 'returnPackages' : 'query')).length;
      const refresh = await helper(bin, m, scenario, 'refresh');
      expect(refresh.json).toEqual({ repos: { r1: 2 }, cachedAgeSeconds: null });
      expect(counted(refresh)).toBeGreaterThan(0);
      const dest = tempDir('yumda-rpm-dl-');
      for (const [cmd, args] of [
        ['resolve', ['tool']],
        ['versions', ['tool']],
        ['download', [dest, 'tool-1.0-1.x86_64']],
      ] as const) {
        const r = await helper(bin, m, scenario, cmd, [...args]);
        expect(r.code, `${cmd}: ${r.stderr}`).toBe(0);
        expect(counted(r), cmd).toBe(0);
      }
    });

    it('yum: a repository a release package configures (SPAL) is refused in the protocol: only dnf targets have one', async () => {
      const r = await helper(bin, 'yum', { repos: { r1: [] } }, 'refresh', [], { job: { repos: [{ id: 'amazonlinux-spal', release: 'spal-release' }] } });
      expect(r.code).toBe(3);
      expect(r.json).toEqual({
        error: {
          kind: 'release',
          message: 'repository amazonlinux-spal is configured by a release package (spal-release): only dnf targets have such repositories',
          release: 'spal-release',
        },
      });
    });

    it.each(managers)("%s: every command holds the cache volume's lock while it works there", async (m) => {
      const scenario = { repos: { r1: [pkg('tool', '1.0-1', 'x86_64')] } };
      const dest = tempDir('yumda-rpm-dl-');
      for (const [cmd, args] of [
        ['refresh', []],
        ['resolve', ['tool']],
        ['versions', ['tool']],
        ['download', [dest, 'tool-1.0-1.x86_64']],
      ] as const) {
        const r = await helper(bin, m, scenario, cmd, [...args]);
        expect(r.code, `${cmd}: ${r.stderr}`).toBe(0);
        expect(r.records.length, cmd).toBeGreaterThan(0);
        expect(
          r.records.filter((x) => !x.locked).map((x) => x.call),
          cmd,
        ).toEqual([]);
      }
    });

    it('dnf: each package is announced on stderr as it is downloaded, for the progress line', async () => {
      const dest = tempDir('yumda-rpm-dl-');
      const scenario = { repos: { r1: [pkg('tool', '1.0-1', 'x86_64'), pkg('other', '2.0-3', 'noarch')] } };
      const r = await helper(bin, 'dnf', scenario, 'download', [dest, 'tool-1.0-1.x86_64', 'other-2.0-3.noarch']);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stderr.split('\n').filter((l) => l.startsWith('downloaded '))).toEqual(['downloaded tool-1.0-1.x86_64.rpm', 'downloaded other-2.0-3.noarch.rpm']);
    });

    it("dnf: the reason for a repository failure is this run's, not an earlier run's line in the shared librepo log", async () => {
      const earlier = (cache: string) =>
        writeFileSync(
          path.join(cache, 'log/dnf.librepo.log'),
          "2026-11-28T10:00:00+0000 INFO Curl error (6): Couldn't resolve host name for http://old.example/repodata/repomd.xml\n",
        );
      const failing = { repos: { r1: [] }, raise: { fill_sack: { class: 'RepoError', args: ["Failed to download metadata for repo 'r1'"] } } };
      const r = await helper(bin, 'dnf', failing, 'refresh', [], { before: earlier });
      expect(r.json).toEqual({ error: { kind: 'repo', message: "Failed to download metadata for repo 'r1'" } });
      const own = await helper(bin, 'dnf', { ...failing, librepoLog: ['Curl error (7): Failed to connect to repo.example port 80'] }, 'refresh', [], { before: earlier });
      expect(own.json).toEqual({ error: { kind: 'repo', message: "Failed to download metadata for repo 'r1': Curl error (7): Failed to connect to repo.example port 80" } });
    });

    it.each([
      ['refresh', 'pkgSack', 'repo'],
      ['download', 'downloadPkgs', 'download'],
    ])('yum: an exception nothing caught (URLGrabError in %s, from %s) is answered as a %s error in JSON', async (cmd, call, kind) => {
      const dest = tempDir('yumda-rpm-dl-');
      const scenario = {
        repos: { r1: [pkg('tool', '1.0-1', 'x86_64')] },
        raise: { [call]: { class: 'URLGrabError', args: [14, 'curl#6 - "Could not resolve host: cdn.amazonlinux.com"'] } },
      };
      const r = await helper(bin, 'yum', scenario, cmd, cmd === 'download' ? [dest, 'tool-1.0-1.x86_64'] : []);
      expect(r.json, r.stderr).toEqual({ error: { kind, message: '[Errno 14] curl#6 - "Could not resolve host: cdn.amazonlinux.com"', exception: 'URLGrabError' } });
      expect(r.code).toBe(3);
    });

    it('a bug of the helper itself is answered as an internal error', async () => {
      const r = await helper(bin, 'dnf', { repos: { r1: [] } }, 'refresh', [], { job: { releasever: undefined } });
      expect(r.json, r.stderr).toEqual({ error: { kind: 'internal', message: "'releasever'", exception: 'KeyError' } });
      expect(r.stderr).toMatch(/Traceback/);
    });
  });
}
