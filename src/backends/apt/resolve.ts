import { cLibraryFix } from '../../check/c-library.js';
import { compareVersionNames } from '../../check/versions.js';
import { UserError } from '../../util/errors.js';
import { sha256 } from '../../util/hash.js';
import type { Repository, Runtime } from '../../registry/types.js';
import type { Runner } from '../../runner/types.js';
import type { Backend, Freshness, Log, PackageRequest, ResolveContext, VersionPin } from '../../resolve/backend.js';
import { notFoundError } from '../../resolve/backend.js';
import { tarOf } from '../../tree/tar.js';
import { shellTemplate } from '../../util/template.js';
import { APT_CONFIG, ARGS_FILE, fetchFailure, networkHint } from './container.js';
import { stageDebs } from './stage.js';
import { formatStanza, parseDeb822, parseDependsField } from './deb822.js';
import { attribute, runtimeDependencies, type PlannedPackage, type VersionSkew } from '../../resolve/plan.js';
import { literalPattern, rankHits, type SearchHit } from '../../resolve/search.js';
import { APT_LISTS_VOLUME_PREFIX } from '../../cache/metadata-volumes.js';
import { shellQuote } from '../../util/shell.js';

/** Where apt keeps repository metadata: a persistent volume in build containers, under /yumda with --local. */
const APT_LISTS = '/yumda/lists';

/** Never created: the resolve's archives directory, empty so that --print-uris lists every package. */
const PRINT_URIS_ARCHIVES = '/yumda/print-uris-archives';

const refreshTemplate = shellTemplate(new URL('./refresh.sh', import.meta.url));

/**
 * apt's binary caches of the lists (srcpkgcache) and of the lists with the status file (pkgcache),
 * kept in the metadata volume beside the lists: rebuilding them from the lists took 1.3 s of
 * every resolve of a debian12 plan. The status file is the runtime's, so the pkgcache is one per
 * status (`statusKey`); apt checks both against the files' sizes and times and writes them
 * atomically (a temporary file renamed), so builds sharing the volume read whole ones.
 */
export function binaryCaches(statusKey: string): { srcpkgcache: string; pkgcache: string } {
  return { srcpkgcache: `${APT_LISTS}/srcpkgcache.bin`, pkgcache: `${APT_LISTS}/pkgcache-${statusKey}.bin` };
}

export function aptConf(debArch: string, statusKey = 'none'): string {
  const caches = binaryCaches(statusKey);
  return [
    `APT::Architecture "${debArch}";`,
    `APT::Architectures { "${debArch}"; };`,
    'APT::Install-Recommends "false";',
    'APT::Install-Suggests "false";',
    'APT::Get::Assume-Yes "true";',
    'APT::Sandbox::User "root";',
    'Acquire::Languages "none";',
    'Acquire::Retries "3";',
    'Dir::Etc::SourceList "/yumda/etc/sources.list";',
    'Dir::Etc::SourceParts "/yumda/etc/sources.list.d";',
    'Dir::Etc::Preferences "/yumda/etc/preferences";',
    'Dir::Etc::PreferencesParts "/yumda/etc/preferences.d";',
    'Dir::State::status "/yumda/etc/status";',
    'Dir::Cache::archives "/yumda/debs";',
    // all of apt's state under /yumda: with --local this is the user's machine (a build stage),
    // whose own lists, caches and locks yumda must not touch
    `Dir::State::Lists "${APT_LISTS}";`,
    'Dir::State "/yumda/state";',
    'Dir::Cache "/yumda/apt-cache";',
    `Dir::Cache::srcpkgcache "${caches.srcpkgcache}";`,
    `Dir::Cache::pkgcache "${caches.pkgcache}";`,
    // only yumda uses these directories; concurrent builds sharing a lists volume take the flock in refresh()
    'Debug::NoLocking "true";',
    '',
  ].join('\n');
}

/** One-line sources.list entries for the target's repositories and the user's `--repo`s. */
export function sourcesList(repos: Repository[]): string {
  const lines: string[] = [];
  for (const r of repos) {
    // apt has no release-package repositories (yumda's optional ones are rpm's)
    if (!r.url) continue;
    lines.push(`# ${r.id}`);
    const opts = r.gpgcheck === false ? ' [trusted=yes]' : '';
    for (const suite of r.suites ?? ['./']) lines.push(`deb${opts} ${r.url} ${suite} ${(r.components ?? []).join(' ')}`.trimEnd());
  }
  return lines.join('\n') + '\n';
}

/**
 * A dpkg status file describing the runtime's packages, so apt resolves as if installing into the
 * runtime: what Lambda already has is satisfied, and only the rest is planned.
 */
export function runtimeStatus(runtime: Runtime, debArch: string): string {
  // a runtime that provides nothing (a self-contained layer's) is an empty file: apt cannot parse a lone newline
  if (runtime.packages.length === 0) return '';
  return (
    runtime.packages
      .map((p) =>
        formatStanza([
          ['Package', p.name],
          ['Status', 'install ok installed'],
          ['Architecture', p.arch === 'all' ? 'all' : debArch],
          ['Multi-Arch', p.multiArch],
          ['Version', p.version],
          ['Provides', p.provides?.join(', ')],
        ]),
      )
      .join('\n\n') + '\n'
  );
}

/**
 * apt preferences that make the pinned versions the candidates (priority over 1000 wins over any
 * repository, also over a newer version). A pinned version apt cannot find is simply not chosen.
 */
export function pinPreferences(pins: VersionPin[]): string {
  return pins.map((p) => `Package: ${p.name}\nPin: version ${p.version}\nPin-Priority: 1001\n`).join('\n');
}

/** Versions in `apt-cache madison` output, in apt's order (newest first), each once. */
export function parseMadison(stdout: string, name: string): string[] {
  const out: string[] = [];
  for (const line of stdout.split('\n')) {
    const [pkg, version, source] = line.split('|').map((f) => f.trim());
    if (pkg !== name || !version || / Sources$/.test(source ?? '')) continue;
    if (!out.includes(version)) out.push(version);
  }
  return out;
}

/** A `--repo` argument for apt: `URL [SUITE [COMPONENT...]]` or a whole `deb …` line. */
export function parseAptRepo(arg: string, index: number, defaultSuite: string): Repository {
  const words = arg
    .trim()
    .replace(/^deb\s+/, '')
    .replace(/^\[[^\]]*\]\s*/, '')
    .split(/\s+/);
  const [url, suite, ...components] = words;
  if (!url || !/^(https?|file):\/\//.test(url)) throw new UserError(`--repo '${arg}': expected a URL (http://, https:// or file://), then optionally a suite and components`);
  return {
    id: `repo${index + 1}`,
    url,
    suites: [suite ?? defaultSuite],
    components: suite === undefined ? ['main'] : components.length ? components : suite.endsWith('/') ? [] : ['main'],
    gpgcheck: false,
  };
}

/** `name - summary` lines of `apt-cache search`. */
export function parseAptSearch(stdout: string): Array<{ name: string; summary: string }> {
  const out: Array<{ name: string; summary: string }> = [];
  for (const line of stdout.split('\n')) {
    const m = /^(\S+) - (.*)$/.exec(line);
    if (m) out.push({ name: m[1]!, summary: m[2]!.trim() });
  }
  return out;
}

export interface AptInstall {
  name: string;
  version: string;
  arch: string;
  /** The runtime's version when the runtime has the package: version skew, unless the same. */
  upgradesFrom?: string;
}

/**
 * The packages of `apt-get install --print-uris`, one `'URI' NAME_VERSION_ARCH.EXT SIZE HASH` line
 * each, grouped by server (on one host, in apt's install order). A package the runtime has (its
 * status file) is an upgrade from the runtime's version: version skew. apt names the file with
 * `%xx` for `_`, `:` (an epoch), `%` and any byte outside printable ASCII; its extension is the
 * repository file's own (`.deb`, `.udeb`, …). A line apt quotes that does not read so is an error,
 * not a package left out.
 *
 * Not `install -s`: its simulation orders and "configures" the whole system, 1.2 of its 1.7 s for
 * poppler-utils; --print-uris stops once the fetch is planned (0.5 s), with the same resolution.
 */
export function parsePrintUris(stdout: string, runtimeVersions: ReadonlyMap<string, string>): AptInstall[] {
  const out: AptInstall[] = [];
  for (const line of stdout.split('\n')) {
    if (!line.startsWith("'")) continue;
    const m = /^'[^']+' ([^_\s]+)_([^_\s]+)_([^_\s]+)\.[A-Za-z0-9]+ \d+/.exec(line);
    if (!m) throw new Error(`apt planned a download yumda cannot read: ${line}`);
    const name = percentDecoded(m[1]!);
    const installed = runtimeVersions.get(name);
    out.push({ name, version: percentDecoded(m[2]!), arch: percentDecoded(m[3]!), ...(installed !== undefined ? { upgradesFrom: installed } : {}) });
  }
  return out;
}

/** apt's `%xx` escapes undone, byte by byte (decodeURIComponent throws on bytes that are not UTF-8). */
function percentDecoded(s: string): string {
  if (!s.includes('%')) return s;
  return Buffer.from(
    s.replace(/%([0-9a-fA-F]{2})/g, (_, hex: string) => String.fromCharCode(parseInt(hex, 16))),
    'latin1',
  ).toString('utf8');
}

/**
 * apt's failure to resolve as one error: what it could not find (every package, counted, the
 * first few named: apt prints one line per name), else the first problem it names.
 */
export function aptResolveError(stderr: string, stdout: string, targetId: string): UserError {
  const all = `${stdout}\n${stderr}`;
  const missing = new Map<string, PackageRequest>();
  for (const m of all.matchAll(/Unable to locate package (\S+)/g)) missing.set(m[1]!, { name: m[1]! });
  for (const m of all.matchAll(/Version '([^']+)' for '([^']+)' was not found/g)) missing.set(`${m[2]}=${m[1]}`, { name: m[2]!, version: m[1]! });
  if (missing.size) return notFoundError([...missing.values()], targetId);
  return new UserError(explainAptFailure(stderr, stdout, targetId));
}

/** The one line to show for apt's failure to resolve, naming the package when apt does. */
export function explainAptFailure(stderr: string, stdout: string, targetId: string): string {
  const all = `${stdout}\n${stderr}`;
  if (/Unable to locate package |Version '[^']+' for '[^']+' was not found/.test(all)) return aptResolveError(stderr, stdout, targetId).message;
  const candidate = /Package '?([^' ]+)'? has no installation candidate/.exec(all);
  if (candidate) return `package '${candidate[1]}' exists in the ${targetId} repositories but has no installable version (only referenced, or replaced)`;
  const unmet = /The following packages have unmet dependencies:\n([\s\S]*?)\nE:/.exec(all);
  if (unmet) return `the packages cannot be installed together: ${unmet[1]!.replace(/\s+/g, ' ').trim()}`;
  const e = all.split('\n').find((l) => l.startsWith('E: '));
  return `apt failed: ${e ? e.slice(3) : all.trim().split('\n').pop()}`;
}

function requestArg(r: PackageRequest): string {
  return r.version ? `${r.name}=${r.version}` : r.name;
}

/**
 * Runs a bash script with `words` in the array `$ARGS` (read from a file: a long list of packages
 * would pass the kernel's limit for one argument, the script). apt's `E:` lines are not shown as
 * they come: the error they end in says them once (a list of 10,000 unknown names is one line).
 */
async function sh(c: Runner, script: string, log: Log, what: string, words: string[] = []): Promise<{ stdout: string; stderr: string; exitCode: number }> {
  await c.putArchive('/', await tarOf(new Map([[ARGS_FILE, words.map((w) => w + '\n').join('')]])));
  return c.exec(['bash', '-c', `mapfile -t ARGS < ${ARGS_FILE}\n${script}`], {
    env: { APT_CONFIG, DEBIAN_FRONTEND: 'noninteractive' },
    onStderrLine: (l) => l.trim() && !l.startsWith('E: ') && log(`${what}: ${l}`),
  });
}

/**
 * What apt would install for the requests, in its order, less what the runtime has at the same
 * version: apt matches an installed version to a repository one by a hash of their dependency
 * fields, which the runtime's status file leaves out, so it "upgrades" such a package to the very
 * version the runtime has.
 */
async function plannedInstalls(c: Runner, ctx: ResolveContext, requests: PackageRequest[], log: Log, options = ''): Promise<AptInstall[]> {
  // an empty archives directory of its own: apt leaves out of --print-uris what it already has there
  const r = await sh(c, `apt-get install --print-uris -q -o Dir::Cache::archives=${PRINT_URIS_ARCHIVES}/ ${options} "\${ARGS[@]}"`, log, 'apt', requests.map(requestArg));
  if (r.exitCode !== 0) throw aptResolveError(r.stderr, r.stdout, ctx.target.id);
  const runtimeVersions = new Map(ctx.runtime.packages.map((p) => [p.name, p.version]));
  return parsePrintUris(r.stdout, runtimeVersions).filter((i) => i.upgradesFrom !== i.version);
}

/** apt-get update unless the metadata volume's lists are fresh enough (refresh.sh). */
export function refreshScript(freshness: Freshness): string {
  return refreshTemplate({ LISTS: APT_LISTS, REUSE_FRESH: !freshness.force, MAX_AGE_MINUTES: freshness.maxAgeMinutes });
}

export const aptBackend: Backend = {
  configFiles(ctx) {
    const status = runtimeStatus(ctx.runtime, ctx.arch.deb);
    return new Map([
      ['/yumda/etc/apt.conf', aptConf(ctx.arch.deb, sha256(status).slice(0, 16))],
      ['/yumda/etc/sources.list', sourcesList(ctx.repositories)],
      ['/yumda/etc/sources.list.d/.keep', ''],
      ['/yumda/etc/status', status],
      ['/yumda/etc/preferences', pinPreferences(ctx.pins ?? [])],
      ['/yumda/etc/preferences.d/.keep', ''],
      ['/yumda/debs/partial/.keep', ''],
      ['/yumda/state/.keep', ''],
      ['/yumda/apt-cache/.keep', ''],
    ]);
  },

  metadataVolumes(ctx) {
    const key = sha256(JSON.stringify([ctx.target.id, ctx.arch.deb, sourcesList(ctx.repositories)])).slice(0, 12);
    return [{ name: `${APT_LISTS_VOLUME_PREFIX}${ctx.target.id}-${ctx.arch.deb}-${key}`, path: APT_LISTS }];
  },

  async refresh(c, ctx, log, freshness) {
    const r = await c.exec(['bash', '-c', refreshScript(freshness)], {
      env: { APT_CONFIG },
      onStdoutLine: (l) =>
        /^(Get|Hit):/.test(l) ? log(l.replace(/\s+\[.*$/, '')) : l.startsWith('yumda: metadata fresh') ? log('repository metadata is fresh: reused') : undefined,
    });
    const fetch = fetchFailure(`${r.stdout}\n${r.stderr}`);
    if (fetch) throw new UserError(`cannot read the ${ctx.target.id} package repositories: ${fetch}`, { hint: networkHint(ctx) });
    if (r.exitCode !== 0) {
      const detail = (r.stderr.split('\n').find((l) => l.startsWith('E:')) ?? r.stderr.trim()).replace(/^[EW]: /, '');
      throw new UserError(`cannot read the ${ctx.target.id} package repositories: ${detail}`, { hint: networkHint(ctx) });
    }
    const fresh = /^yumda: metadata fresh (\d+)/m.exec(r.stdout);
    return fresh ? { fetched: false, ageSeconds: Math.max(0, Number(fresh[1])) } : { fetched: true };
  },

  async resolve(c, ctx, requests, log) {
    const installs = await plannedInstalls(c, ctx, requests, log);
    if (installs.length === 0) {
      return { packages: [], fromRuntime: requests.map((r) => r.name), skew: [] };
    }
    const show = await sh(
      c,
      'apt-cache show -q --no-all-versions "${ARGS[@]}"',
      log,
      'apt-cache',
      installs.map((i) => `${i.name}:${i.arch}=${i.version}`),
    );
    if (show.exitCode !== 0) throw new Error(`apt-cache show failed: ${show.stderr.trim()}`);
    const stanzas = new Map(parseDeb822(show.stdout).map((s) => [`${s.get('Package')}=${s.get('Version')}`, s]));

    const skew: VersionSkew[] = [];
    const packages: PlannedPackage[] = installs.map((i) => {
      const s = stanzas.get(`${i.name}=${i.version}`);
      if (i.upgradesFrom) skew.push({ name: i.name, runtimeVersion: i.upgradesFrom, neededVersion: i.version });
      const sha = s?.get('SHA256');
      const src = s?.get('Source')?.replace(/\s*\(.*\)/, '');
      return {
        name: i.name,
        version: i.version,
        arch: i.arch,
        downloadSize: Number(s?.get('Size') ?? 0),
        installedSize: Number(s?.get('Installed-Size') ?? 0) * 1024,
        requiredBy: [],
        requested: requests.some((r) => r.name === i.name),
        provides: parseDependsField(s?.get('Provides')).flat(),
        depends: [...parseDependsField(s?.get('Pre-Depends')), ...parseDependsField(s?.get('Depends'))],
        sourcePackage: src ?? i.name,
        ...(sha ? { checksum: { algorithm: 'sha256' as const, value: sha } } : {}),
        ...(s?.get('Filename') ? { filename: s.get('Filename')! } : {}),
      };
    });
    const runtimeBound = new Set(ctx.target.runtimeBound);
    const bound = skew.filter((s) => runtimeBound.has(s.name));
    if (bound.length) {
      const s = bound.find((b) => b.name === 'libc6') ?? bound[0]!;
      // the packages asked for and their libraries say what they need; libc-bin's exact pin on its own libc6 does not
      const need = s.name === 'libc6' ? glibcRequirement([...stanzas.values()].filter((st) => !runtimeBound.has(st.get('Package') ?? ''))) : undefined;
      if (need) {
        throw new UserError(
          `${need.by} needs libc6 >= ${need.version} (${need.glibc}), newer than the ${ctx.runtime.id} runtime's ${s.runtimeVersion}, and libc6 cannot be shipped in a layer: its files must be the runtime's own`,
          { hint: cLibraryFix('libc.so.6', need.glibc, ctx.target.id) },
        );
      }
      throw new UserError(
        `the packages need ${s.name} ${s.neededVersion}, newer than the ${ctx.runtime.id} runtime's ${s.runtimeVersion}, and ${s.name} cannot be shipped in a layer`,
        { hint: `pin an older version of the package that needs it, or use a newer runtime` },
      );
    }
    const by = attribute(
      packages,
      requests.map((r) => r.name),
    );
    for (const p of packages) p.requiredBy = by.get(p.name) ?? [];
    const runtimeNames = new Set(ctx.runtime.packages.flatMap((p) => [p.name, ...(p.provides ?? [])]));
    return { packages, fromRuntime: runtimeDependencies(packages, runtimeNames), skew };
  },

  async candidates(c, ctx, name, log) {
    const r = await sh(c, 'apt-cache madison -q "${ARGS[@]}"', log, 'apt-cache', [name]);
    const versions = parseMadison(r.stdout, name);
    if (r.exitCode !== 0 || versions.length === 0) throw notFoundError([{ name }], ctx.target.id);
    return versions;
  },

  async search(c, _ctx, words, limit, log) {
    // apt-cache matches regular expressions against names and descriptions; each word literally
    // here, and ranked (and narrowed to names and summaries) by rankHits
    const found = await sh(c, 'apt-cache search -q -- "${ARGS[@]}"', log, 'apt-cache', words.map(literalPattern));
    if (found.exitCode !== 0) throw new UserError(`apt-cache search failed: ${found.stderr.trim().split('\n').pop()}`);
    const ranked = rankHits(parseAptSearch(found.stdout), words);
    const top = ranked.slice(0, limit);
    if (top.length === 0) return { hits: [], total: 0 };
    const show = await sh(
      c,
      'apt-cache show -q --no-all-versions "${ARGS[@]}"',
      log,
      'apt-cache',
      top.map((h) => h.name),
    );
    const stanzas = new Map(parseDeb822(show.stdout).map((s) => [s.get('Package'), s]));
    const hits: SearchHit[] = top.map((h) => {
      const s = stanzas.get(h.name);
      return { name: h.name, version: s?.get('Version') ?? '', arch: s?.get('Architecture') ?? '', summary: h.summary };
    });
    return { hits, total: ranked.length };
  },

  async withRecommends(c, ctx, requests, log) {
    const installs = await plannedInstalls(c, ctx, requests, log, '-o APT::Install-Recommends=true');
    if (installs.length === 0) return [];
    const show = await sh(
      c,
      'apt-cache show -q --no-all-versions "${ARGS[@]}"',
      log,
      'apt-cache',
      installs.map((i) => `${i.name}:${i.arch}=${i.version}`),
    );
    if (show.exitCode !== 0) throw new Error(`apt-cache show failed: ${show.stderr.trim()}`);
    return parseDeb822(show.stdout).map((s) => ({
      name: s.get('Package') ?? '',
      provides: parseDependsField(s.get('Provides')).flat(),
      depends: [...parseDependsField(s.get('Pre-Depends')), ...parseDependsField(s.get('Depends'))],
      recommends: parseDependsField(s.get('Recommends')),
    }));
  },

  async packageNames(c, _ctx, log) {
    const r = await sh(c, 'apt-cache pkgnames', log, 'apt-cache');
    if (r.exitCode !== 0) throw new Error(`apt-cache pkgnames failed: ${r.stderr.trim()}`);
    return r.stdout.split('\n').filter(Boolean);
  },

  stage: stageDebs,

  async providers(c, _ctx, sonames) {
    // Debian names library packages after their soname (policy 8.1); the guess is checked
    // against the repositories before it is offered.
    const guesses = new Map<string, string>();
    for (const so of sonames) {
      const g = debianPackageGuess(so);
      if (g) guesses.set(so, g);
    }
    const names = [...new Set(guesses.values())].map(shellQuote).join(' ');
    const r = await c.exec(['bash', '-c', `for p in ${names}; do apt-cache show --no-all-versions "$p" >/dev/null 2>&1 && echo "$p"; done; true`], { env: { APT_CONFIG } });
    const found = new Set(r.stdout.split('\n').filter(Boolean));
    return new Map([...guesses].filter(([, g]) => found.has(g)));
  },
};

/**
 * The strongest `libc6 (>= X)` among packages' Depends and Pre-Depends (dpkg-shlibdeps writes the
 * glibc version of the newest symbol a package uses there): which package needs which GLIBC_X.
 */
export function glibcRequirement(stanzas: Array<Map<string, string>>): { by: string; version: string; glibc: string } | undefined {
  let best: { by: string; version: string; glibc: string } | undefined;
  for (const st of stanzas) {
    const fields = `${st.get('Pre-Depends') ?? ''},${st.get('Depends') ?? ''}`;
    for (const m of fields.matchAll(/(?:^|[,|])\s*libc6(?::\w+)?\s*\(\s*>>?=?\s*(?:\d+:)?([\d.]+)[^)]*\)/g)) {
      const glibc = `GLIBC_${m[1]!.replace(/\.$/, '')}`;
      if (!best || compareVersionNames(glibc, best.glibc) > 0) best = { by: `${st.get('Package')} ${st.get('Version')}`, version: m[1]!, glibc };
    }
  }
  return best;
}

/** Debian's library package naming policy: libfoo.so.1 is in libfoo1, libfoo-2.0.so.0 in libfoo-2.0-0. */
export function debianPackageGuess(soname: string): string | undefined {
  const m = /^(lib.+?)\.so\.(\d+)(?:\..*)?$/.exec(soname);
  if (!m) return undefined;
  const base = m[1]!.toLowerCase().replace(/_/g, '-');
  return /\d$/.test(base) ? `${base}-${m[2]}` : `${base}${m[2]}`;
}
