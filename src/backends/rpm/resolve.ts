/**
 * The rpm family: dnf (AL2023) and yum (AL2). The package manager runs in the build container
 * through yumda's helper (images/helpers/yumda_rpm.py), which uses the manager's own Python API to
 * read the repositories, resolve the closure into an empty root (no weak dependencies) and download
 * exact NEVRAs. Which of those the layer ships is decided here from the runtime's manifest
 * (plan.ts). Packages are unpacked with rpm2cpio and cpio: no scriptlets ever run.
 *
 * Why resolve into an empty root and subtract, rather than pre-seed the root's rpmdb with the
 * runtime's packages as lambci/yumda did: seeding needs the runtime's real rpm headers (only a dump
 * of the real runtime has them; for AL2 we have names and versions only), and a seeded solver
 * silently keeps an old runtime package where a newer one is needed. The empty-root closure plus a
 * version-aware subtraction needs only names, versions and provides, and turns skew into a decision.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { Runner } from '../../runner/types.js';
import { newestTargetOf } from '../../registry/load.js';
import { repositoryLocation, unusedOptionalRepositories } from '../../registry/repositories.js';
import type { Repository, RuntimePackage } from '../../registry/types.js';
import { UserError } from '../../util/errors.js';
import { projectRoot } from '../../util/paths.js';
import { sha256 } from '../../util/hash.js';
import type { Backend, Log, PackageRequest, ResolveContext, VersionPin } from '../../resolve/backend.js';
import { rankHits } from '../../resolve/search.js';
import { NotFoundError, notFoundError, STAGE_ARCHIVES, STAGE_OUT } from '../../resolve/backend.js';
import { planFromResolution, runtimeCapabilities, type RpmResolution } from './plan.js';
import { compareEvr, formatEvr, parseEvr, parseReldep, satisfies, type Evr } from './version.js';
import { plural } from '../../util/plural.js';
import { RPM_CACHE_VOLUME_PREFIX } from '../../cache/metadata-volumes.js';
import { shellQuote } from '../../util/shell.js';

const HELPER = '/yumda/bin/yumda_rpm.py';
const JOB = '/yumda/etc/job.json';
/** The job with the target's optional repositories (SPAL) added: asked where a package was not found. */
const JOB_OPTIONAL = '/yumda/etc/job-optional.json';
const INSTALLROOT = '/yumda/root';
const CACHE = '/yumda/cache';
const DOWNLOADS = '/yumda/rpms';
const KEYS_DB = '/yumda/keys';

export const HELPER_SOURCE = path.join(projectRoot, 'images/helpers/yumda_rpm.py');

export interface RpmJob {
  manager: 'dnf' | 'yum';
  installroot: string;
  cachedir: string;
  releasever: string;
  arch: string;
  /** A repository by URL, or one its release package configures (the helper installs it from the others). */
  repos: Array<{ id: string; url: string; mirrorlist: boolean } | { id: string; release: string }>;
  runtime: Array<{ name: string; epoch: number | null; version: string; release: string }>;
  /** Exact packages to prefer when the closure needs their name (a lock's): see the helper's `pin`. */
  pins: Array<{ name: string; epoch: number; version: string; release: string; arch: string }>;
}

/** The package manager the helper drives for a target: yum on AL2, dnf everywhere else. */
export function rpmManager(target: Pick<ResolveContext['target'], 'packageManager'>): RpmJob['manager'] {
  return target.packageManager === 'yum' ? 'yum' : 'dnf';
}

/** The repositories' $releasever (AL2023: `latest` or a pinned release). */
function releasever(target: ResolveContext['target']): string {
  return target.distro.releasever ?? target.distro.version;
}

export function rpmJob(ctx: ResolveContext): RpmJob {
  return {
    manager: rpmManager(ctx.target),
    installroot: INSTALLROOT,
    cachedir: CACHE,
    releasever: releasever(ctx.target),
    arch: ctx.arch.rpm,
    repos: ctx.repositories.map((r) => (r.release ? { id: r.id, release: r.release } : { id: r.id, url: r.url ?? '', mirrorlist: !!r.mirrorlist })),
    runtime: ctx.runtime.packages.map(runtimeNevr).filter((x): x is NonNullable<typeof x> => !!x),
    pins: (ctx.pins ?? []).map(pinNevra).filter((x): x is NonNullable<typeof x> => !!x),
  };
}

/** A lock's `[epoch:]version-release` and arch as the helper matches a package; the epoch is exact (0 when none). */
export function pinNevra(p: VersionPin): RpmJob['pins'][number] | undefined {
  const e = parseEvr(p.version);
  if (e.release === undefined) return undefined;
  return { name: p.name, epoch: e.epoch, version: e.version, release: e.release, arch: p.arch };
}

/** The versions the helper found, each once, newest first in rpm's order (epoch, version, release). */
export function newestFirst(found: Evr[]): string[] {
  const unique = new Map(found.map((e) => [formatEvr(e), e]));
  return [...unique.entries()].sort(([, a], [, b]) => compareEvr(b, a)).map(([s]) => s);
}

/** A manifest version `[epoch:]version-release` as the helper looks it up. */
export function runtimeNevr(p: RuntimePackage): RpmJob['runtime'][number] | undefined {
  const e = parseEvr(p.version);
  if (e.release === undefined) return undefined;
  return { name: p.name, epoch: e.epoch || null, version: e.version, release: e.release };
}

/**
 * A `--repo` argument for dnf/yum: a repository URL (its repodata/ beside it), or
 * `mirrorlist=URL`. `$basearch` and `$releasever` are expanded by the package manager.
 */
export function parseRpmRepo(arg: string, index: number): Repository {
  const t = arg.trim();
  const mirror = /^mirrorlist=(.*)$/.exec(t);
  const url = (mirror ? mirror[1]! : t).trim();
  if (!/^(https?|file):\/\/\S+$/.test(url)) throw new UserError(`--repo '${arg}': expected a repository URL (http://, https:// or file://), or mirrorlist=URL`);
  return { id: `repo${index + 1}`, url, ...(mirror ? { mirrorlist: true } : {}), gpgcheck: false };
}

/** A repository as people read it: `$basearch`/`$releasever` filled in. */
export function displayRepoUrl(r: Repository, rpmArch: string, releasever: string): string {
  if (!r.url) return `${repositoryLocation(r)} from the other repositories, as its vendor documents`;
  const url = r.url
    .replace(/\$basearch\b/g, rpmArch)
    .replace(/\$arch\b/g, rpmArch)
    .replace(/\$releasever\b/g, releasever);
  return r.mirrorlist ? `${url} (mirror list)` : url;
}

/** The error the helper answers with (exit 3), whatever went wrong: see its header. */
export interface HelperError {
  kind: 'repo' | 'not-found' | 'unsatisfiable' | 'download' | 'release' | 'internal' | string;
  message: string;
  spec?: string;
  /** Every spec nothing matched (not-found). */
  specs?: string[];
  /** The exception's class, when the helper's catch-all answered. */
  exception?: string;
}

/** The helper's JSON answer, or the one-line error it reports. */
export function parseHelperOutput<T>(stdout: string, stderr: string, exitCode: number, what: string): T | { error: HelperError } {
  const line = stdout
    .trim()
    .split('\n')
    .reverse()
    .find((l) => l.startsWith('{'));
  if (line) {
    try {
      return JSON.parse(line) as T;
    } catch {
      // fall through: report stderr
    }
  }
  // no answer at all: the helper answers every failure it can see (a catch-all), so the
  // interpreter or the package manager's Python API is missing: a wrong --build-image
  const last = stderr.trim().split('\n').filter(Boolean).slice(-3).join(' ');
  throw new UserError(`${what} failed (exit ${exitCode}): ${last || stdout.trim().slice(-300)}`, {
    hint: 'the build image needs dnf (python3 with the dnf module) or yum (python 2 with the yum module), rpm2cpio and cpio',
  });
}

/**
 * The helper's error as the user reads it, the same from every command: a repository or download
 * failure can happen while resolving too (yum fetches file lists when it first needs them).
 */
export function helperError(err: HelperError, ctx: Pick<ResolveContext, 'target' | 'repositories' | 'arch' | 'runtime' | 'pins'>, requests: PackageRequest[] = []): UserError {
  const first = err.message.split('\n')[0];
  switch (err.kind) {
    case 'repo':
      return new UserError(`cannot read the ${ctx.target.id} package repositories: ${first}`, {
        hint: `repositories: ${ctx.repositories.map((x) => displayRepoUrl(x, ctx.arch.rpm, releasever(ctx.target))).join(', ')}; check the network (or --network) and proxy settings`,
      });
    case 'download':
      return new UserError(`downloading the packages failed: ${first}`, {
        hint: 'check the network (or --network) and proxy settings; --refresh fetches the repository metadata anew if it is stale',
      });
    case 'release':
      return new UserError(`cannot enable a repository: ${first}`, {
        hint: `its release package comes from the other repositories (${ctx.repositories
          .filter((x) => x.url)
          .map((x) => displayRepoUrl(x, ctx.arch.rpm, releasever(ctx.target)))
          .join(', ')}): keep the target's own, or --repo a mirror of them that has it`,
      });
    case 'internal':
      return new UserError(`yumda's rpm helper failed: ${err.exception ? `${err.exception}: ` : ''}${first}`, {
        hint: 'this is a bug in yumda (images/helpers/yumda_rpm.py): please report it with this message',
      });
    case 'not-found': {
      // each spec as it was asked for (name=version), else as the helper had it
      const specs = err.specs ?? (err.spec ? [err.spec] : []);
      const missing = specs.map((sp) => requests.find((q) => requestSpec(q) === sp) ?? { name: sp });
      if (missing.length) return notFoundError(missing, ctx.target.id);
      return new NotFoundError(explainRpmFailure(err.kind, err.message, ctx.target.id));
    }
    default: {
      const req = requests.find((q) => requestSpec(q) === err.spec);
      const pinned = ctx.pins?.length && err.kind === 'unsatisfiable' ? 'the locked versions were preferred; `yumda update` resolves anew' : undefined;
      return new UserError(explainRpmFailure(err.kind, err.message, ctx.target.id, req), { hint: missingFromRuntimeHint(err.message, ctx) ?? pinned });
    }
  }
}

/** One line for the package manager's failure: the package it could not find, or the first problem. */
export function explainRpmFailure(kind: string, message: string, targetId: string, request?: PackageRequest): string {
  if (kind === 'not-found' && request) {
    return request.version
      ? `version ${request.version} of package '${request.name}' was not found in the ${targetId} repositories`
      : `package '${request.name}' was not found in the ${targetId} repositories`;
  }
  if (kind === 'not-found') return `${message} in the ${targetId} repositories`;
  const lines = message
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean);
  const problem = lines.find((l) => /nothing provides|conflicts with|cannot install|Requires:/.test(l)) ?? lines[lines.length - 1] ?? message;
  return `the packages cannot be installed together: ${problem.replace(/^-\s*/, '').replace(/^Problem( \d+)?:\s*/, '')}`;
}

/**
 * When the package manager cannot find something the runtime has (`rtld(GNU_HASH)`, from glibc),
 * the repositories lack the distribution's own packages: the closure is resolved into an empty
 * root, so they must hold what the runtime has too (it is subtracted afterwards).
 */
export function missingFromRuntimeHint(message: string, ctx: Pick<ResolveContext, 'runtime' | 'arch'>): string | undefined {
  const missing = /nothing provides (.+?) needed by/.exec(message)?.[1];
  if (!missing) return undefined;
  const req = parseReldep(missing);
  const owner = runtimeCapabilities(ctx.runtime, {}, ctx.arch.rpm).find((c) => c.caps.some((p) => satisfies(p, req)));
  if (!owner) return undefined;
  return `${missing} comes from ${owner.pkg.name}, which the ${ctx.runtime.id} runtime has; the repositories must hold the distribution's own packages as well (keep the target's repositories, or --repo a mirror of them)`;
}

function interpreter(ctx: ResolveContext): string {
  // yum is Python 2 (AL2's /usr/bin/python); dnf is Python 3
  return rpmManager(ctx.target) === 'yum' ? 'python' : 'python3';
}

/** What the helper writes as each package is downloaded (dnf; yum's come when all are in). */
const DOWNLOADED = /^downloaded (\S+)$/;

/** Metadata is fetched by `refresh` only; the steps after it never expire what it found. */
const NEVER_EXPIRE = String(10 * 365 * 24 * 3600);

/**
 * Runs one helper command. The helper takes the cache volume's lock itself, for every command
 * (builds may share the volume), and answers every failure in JSON: an error answer is thrown here
 * as the user reads it.
 */
async function helper<T>(
  c: Runner,
  ctx: ResolveContext,
  args: string[],
  log: Log,
  what: string,
  opts: { env?: Record<string, string>; requests?: PackageRequest[] } = {},
): Promise<T> {
  const out = await helperAnswer<T>(c, ctx, args, log, what, opts);
  if (isError(out)) throw helperError(out.error, ctx, opts.requests);
  return out;
}

/** The helper's answer, an error answer included (for the callers that look into it first). */
async function helperAnswer<T>(
  c: Runner,
  ctx: ResolveContext,
  args: string[],
  log: Log,
  what: string,
  opts: { env?: Record<string, string> } = {},
): Promise<T | { error: HelperError }> {
  const manager = rpmManager(ctx.target);
  const r = await c.exec([interpreter(ctx), HELPER, ...args], {
    env: { LC_ALL: 'C.UTF-8', YUMDA_METADATA_EXPIRE: NEVER_EXPIRE, ...opts.env },
    // the helper's `downloaded FILE` lines are progress (stagingProgress counts them); the rest is the manager's own
    onStderrLine: (l) => {
      const line = l.trim();
      if (line) log(DOWNLOADED.test(line) ? line : `${manager}: ${line}`);
    },
  });
  return parseHelperOutput<T>(r.stdout, r.stderr, r.exitCode, `${manager} (${what})`);
}

/** What the helper says of each repository a release package configured, by the repository's id in yumda. */
export type Releases = Record<string, { package: string; repos: string[]; gpgcheck: boolean; keys: string[] }>;

/** The repository ids of yumda's own for the ones a release package's .repo files named (`amazonlinux-spal` for SPAL's own name). */
export function releaseRepoIds(releases: Releases | undefined): Map<string, string> {
  const out = new Map<string, string>();
  for (const [id, rel] of Object.entries(releases ?? {})) for (const r of rel.repos) out.set(r, id);
  return out;
}

/**
 * Where a package the target's repositories lack could come from: an optional repository of the
 * target that has it (SPAL), else a self-contained layer from the newest Debian target. One line,
 * for a hint.
 */
export function notFoundHint(
  name: string,
  optional: Array<{ name: string; found?: { name: string; evr: string } | undefined; error?: string | undefined; supportNote?: string | undefined }>,
  from: string | undefined,
): { also: string; hint: string } {
  const fromHint = from ? `--from ${from} takes it from ${from}, in a layer with its own C library` : undefined;
  const has = optional.find((o) => o.found);
  if (has) {
    const label = has.name.toUpperCase();
    const which = has.found!.name === name ? `${has.found!.name} ${has.found!.evr}` : `as ${has.found!.name} ${has.found!.evr}`;
    return {
      also: `; ${label} has it (${which})`,
      hint: [`--repo ${has.name} enables ${label}${has.supportNote ? ` (${has.supportNote})` : ''}`, fromHint].filter(Boolean).join(', or '),
    };
  }
  const unread = optional.filter((o) => o.error);
  const none = optional.filter((o) => !o.error).map((o) => o.name.toUpperCase());
  return {
    also: none.length ? `, nor in ${none.join(' or ')}` : '',
    hint: [...unread.map((o) => `${o.name.toUpperCase()} could not be read to look (${o.error}); --repo ${o.name} may have it`), fromHint ?? 'it is not in the repositories'].join(
      '; ',
    ),
  };
}

function isError(x: unknown): x is { error: HelperError } {
  return typeof x === 'object' && x !== null && 'error' in x;
}

function requestSpec(r: PackageRequest): string {
  return r.version ? `${r.name}-${r.version}` : r.name;
}

const BUILD_ID = `'./usr/lib/.build-id' './usr/lib/.build-id/*'`;

/**
 * Unpacks each downloaded package, without scriptlets, into its own tree, and keeps the package
 * file (its scriptlets run later, in a scratch root: stage/scripts.ts). A %post scriptlet that
 * registers alternatives runs in this throw-away container with `alternatives` replaced by a
 * recorder, so the links it would add are known (see relocate/alternatives.ts).
 */
export function stageScript(files: string[], keyed: Array<{ file: string; key: string }>): string {
  const lines = [
    'set -euo pipefail',
    `mkdir -p ${STAGE_OUT}/pkgs ${STAGE_OUT}/meta ${STAGE_OUT}/${STAGE_ARCHIVES} ${KEYS_DB} /yumda/shim`,
    `printf '#!/bin/sh\\necho "$*" >> ${STAGE_OUT}/meta/$YUMDA_PACKAGE.alternatives\\nexit 0\\n' > /yumda/shim/alternatives`,
    'chmod +x /yumda/shim/alternatives && ln -sf alternatives /yumda/shim/update-alternatives',
  ];
  // signatures: only for repositories that say gpgcheck, with the key the target names
  const keys = [...new Set(keyed.map((k) => k.key))];
  for (const k of keys) lines.push(`rpmkeys --dbpath ${KEYS_DB} --import ${shellQuote(k)}`);
  for (const { file } of keyed) {
    lines.push(`out=$(rpmkeys --dbpath ${KEYS_DB} --checksig ${shellQuote(file)} 2>&1) || { echo "signature check failed: $out" >&2; exit 4; }`);
    // a package without a signature passes --checksig on its digests alone: require the signature
    // (rpm >= 4.14 prints "digests signatures OK", rpm 4.11 on AL2 "rsa sha1 (md5) pgp md5 OK")
    lines.push(
      `case "$out" in *"NOT OK"*|*MISSING*|*NOKEY*|*NOTTRUSTED*) echo "signature check failed: $out" >&2; exit 4;; *"signatures OK"*|*" pgp "*) ;; *) echo "signature check failed (not signed): $out" >&2; exit 4;; esac`,
    );
  }
  lines.push(
    `for f in ${files.map(shellQuote).join(' ')}; do`,
    `  pkg=$(rpm -qp --nosignature --qf '%{NAME}' "$f")`,
    '  rpm2cpio "$f" > /yumda/payload.cpio',
    `  mkdir -p "${STAGE_OUT}/pkgs/$pkg" && touch "${STAGE_OUT}/meta/$pkg.alternatives"`,
    // /usr/lib/.build-id holds links for debuggers only: not unpacked
    `  (cd "${STAGE_OUT}/pkgs/$pkg" && cpio -idm --quiet --no-absolute-filenames -f ${BUILD_ID} < /yumda/payload.cpio)`,
    // the package file itself: its scriptlets run from it (stage/scripts.ts)
    `  ln -f "$f" "${STAGE_OUT}/${STAGE_ARCHIVES}/$pkg.rpm" 2>/dev/null || cp "$f" "${STAGE_OUT}/${STAGE_ARCHIVES}/$pkg.rpm"`,
    `  post=$(rpm -qp --nosignature --qf '%{POSTIN}' "$f" 2>/dev/null || true)`,
    '  case "$post" in *alternatives*) (cd / && PATH=/yumda/shim:$PATH YUMDA_PACKAGE="$pkg" timeout 60 sh -c "$post" 1 </dev/null >/dev/null 2>&1) || true;; esac',
    '  echo "unpacked $pkg"',
    'done',
    'rm -f /yumda/payload.cpio',
  );
  return lines.join('\n');
}

/**
 * A package the repositories lack: before saying so, look in the target's optional repositories
 * (SPAL) whether one has it, and say how to get it either way.
 */
async function notFoundElsewhere(c: Runner, ctx: ResolveContext, err: HelperError, requests: PackageRequest[], log: Log): Promise<UserError> {
  const plain = helperError(err, ctx, requests);
  const request = requests.find((q) => requestSpec(q) === err.spec);
  const optional = rpmManager(ctx.target) === 'dnf' ? unusedOptionalRepositories(ctx.target, ctx.repositories) : [];
  if (err.kind !== 'not-found' || !request || request.version) return plain;
  const from = newestTargetOf('deb')?.id;
  if (!optional.length) return from ? new NotFoundError(plain.message, { hint: notFoundHint(request.name, [], from).hint, missing: [request] }) : plain;
  log(`${request.name} is not in the ${ctx.target.id} repositories: looking in ${optional.map((o) => o.name.toUpperCase()).join(', ')}`);
  const looked = await helperAnswer<{ packages: Array<{ name: string; evr: string; arch: string; repo: string }> }>(
    c,
    ctx,
    ['provides', JOB_OPTIONAL, request.name],
    log,
    'looking in the optional repositories',
  );
  const found = isError(looked) ? [] : looked.packages;
  const entries = optional.map((o) => ({
    name: o.name,
    supportNote: o.repository.supportNote,
    found: found.find((p) => !ctx.repositories.some((r) => r.id === p.repo)),
    error: isError(looked) ? looked.error.message.split('\n')[0] : undefined,
  }));
  const { also, hint } = notFoundHint(request.name, entries, from);
  // a NotFoundError still: the build adds that the metadata came from the cache, when it did
  return new NotFoundError(`${plain.message}${also}`, { hint, missing: [request] });
}

/**
 * The rpm family's backend: one for dnf and yum, the manager being the target's (rpmManager); the
 * helper speaks to either through the same protocol.
 */
export const rpmBackend: Backend = {
  metadataVolumes(ctx) {
    const key = sha256(JSON.stringify([ctx.target.id, ctx.arch.rpm, ctx.repositories])).slice(0, 12);
    return [{ name: `${RPM_CACHE_VOLUME_PREFIX}${ctx.target.id}-${ctx.arch.rpm}-${key}`, path: CACHE }];
  },

  configFiles(ctx) {
    const optional = rpmManager(ctx.target) === 'dnf' ? unusedOptionalRepositories(ctx.target, ctx.repositories) : [];
    return new Map([
      [HELPER, readFileSync(HELPER_SOURCE, 'utf8')],
      [JOB, JSON.stringify(rpmJob(ctx), null, 2) + '\n'],
      ...(optional.length
        ? [[JOB_OPTIONAL, JSON.stringify(rpmJob({ ...ctx, repositories: [...ctx.repositories, ...optional.map((o) => o.repository)] }), null, 2) + '\n'] as [string, string]]
        : []),
      [`${INSTALLROOT}/.keep`, ''],
      [`${CACHE}/log/.keep`, ''],
      [`${CACHE}/persist/.keep`, ''],
      [`${DOWNLOADS}/.keep`, ''],
    ]);
  },

  async refresh(c, ctx, log, freshness) {
    // the helper fetches when its stamp in the volume is older than this, and says whether it did
    const maxAge = freshness.force ? '0' : String(freshness.maxAgeMinutes * 60);
    const r = await helper<{ repos: Record<string, number>; cachedAgeSeconds?: number | null; releases?: Releases }>(c, ctx, ['refresh', JOB], log, 'reading repositories', {
      env: { YUMDA_METADATA_MAX_AGE: maxAge },
    });
    for (const [id, rel] of Object.entries(r.releases ?? {}))
      log(`${id}: configured by ${rel.package} (${rel.repos.join(', ')}${rel.gpgcheck ? `, signed: ${plural(rel.keys.length, 'key')}` : ''})`);
    for (const [id, n] of Object.entries(r.repos)) log(`${id}: ${plural(n, 'package')}`);
    if (typeof r.cachedAgeSeconds !== 'number') return { fetched: true };
    log('repository metadata is fresh: reused');
    return { fetched: false, ageSeconds: r.cachedAgeSeconds };
  },

  async resolve(c, ctx, requests, log) {
    const answer = await helperAnswer<RpmResolution & { pins?: { applied: string[]; missing: string[] }; releases?: Releases }>(
      c,
      ctx,
      ['resolve', JOB, ...requests.map(requestSpec)],
      log,
      'resolving',
    );
    if (isError(answer)) throw await notFoundElsewhere(c, ctx, answer.error, requests, log);
    // a release package's repositories go by yumda's id for them (what signatures and the plan name)
    const ids = releaseRepoIds(answer.releases);
    const r = { ...answer, packages: answer.packages.map((p) => (ids.has(p.repo) ? { ...p, repo: ids.get(p.repo)! } : p)) };
    if (r.pins?.applied.length) log(`locked versions preferred for ${plural(r.pins.applied.length, 'package')}`);
    if (r.pins?.missing.length) log(`locked versions no longer in the repositories (not pinned): ${r.pins.missing.join(', ')}`);
    // every executable of the layer carries /opt/lib as its DT_RPATH (relocate/binaries.ts), so a
    // newer library shipped there wins over the runtime's older copy
    const plan = planFromResolution({ resolution: r, requested: requests, runtime: ctx.runtime, rpmArch: ctx.arch.rpm, runtimeBound: new Set(ctx.target.runtimeBound) });
    for (const n of plan.notes) log(`version skew: ${n}`);
    return plan;
  },

  async search(c, ctx, words, limit, log) {
    const r = await helper<{ packages: Array<{ name: string; evr: string; arch: string; summary: string; repo: string }>; releases?: Releases }>(
      c,
      ctx,
      ['search', JOB, ...words],
      log,
      'searching',
    );
    // one entry per name: the machine's own architecture before noarch, as the resolver prefers
    const own = [...r.packages].sort((a, b) => Number(a.arch === 'noarch') - Number(b.arch === 'noarch'));
    const ids = releaseRepoIds(r.releases);
    const ranked = rankHits(
      own.map((p) => ({ name: p.name, version: p.evr.replace(/^0:/, ''), arch: p.arch, summary: p.summary, repository: ids.get(p.repo) ?? p.repo })),
      words,
    );
    return { hits: ranked.slice(0, limit).map(({ match: _, ...h }) => h), total: ranked.length };
  },

  async packageNames(c, ctx, log) {
    const r = await helper<{ names: string[] }>(c, ctx, ['names', JOB], log, 'listing package names');
    return r.names;
  },

  async candidates(c, ctx, name, log) {
    const r = await helper<{ versions: Array<{ epoch: number; version: string; release: string }> }>(c, ctx, ['versions', JOB, name], log, 'listing versions');
    const versions = newestFirst(r.versions);
    if (versions.length === 0) throw notFoundError([{ name }], ctx.target.id);
    return versions;
  },

  async stage(c, ctx, packages, log) {
    const nevras = packages.map((p) => {
      const e = parseEvr(p.version);
      return `${p.name}-${e.epoch ? `${e.epoch}:` : ''}${e.version}-${e.release}.${p.arch}`;
    });
    // everything may come from the runtime: then nothing is downloaded, and the layer is empty
    const reported = new Set<string>();
    const logDownload: Log = (line) => {
      const m = DOWNLOADED.exec(line);
      if (m) reported.add(m[1]!);
      log(line);
    };
    const d = nevras.length
      ? await helper<{ files: string[]; releases?: Releases }>(c, ctx, ['download', JOB, DOWNLOADS, ...nevras], logDownload, 'downloading')
      : { files: [], releases: {} };
    // what dnf did not report as it went (a package already in its cache; yum reports none)
    for (const f of d.files) if (!reported.has(path.posix.basename(f))) log(`downloaded ${path.posix.basename(f)}`);
    const repoOf = new Map(packages.map((p, i) => [nevras[i]!, p.repository]));
    const keyed: Array<{ file: string; key: string }> = [];
    d.files.forEach((f, i) => {
      const repo = ctx.repositories.find((x) => x.id === repoOf.get(nevras[i]!));
      if (repo?.gpgcheck && repo.gpgkey) keyed.push({ file: f, key: repo.gpgkey });
      // a release package's repository: signed when its .repo file says so, with the keys it shipped
      const rel = repo?.release ? d.releases?.[repo.id] : undefined;
      if (rel?.gpgcheck) {
        if (!rel.keys.length) throw new UserError(`${repo!.id} (configured by ${rel.package}) asks for signed packages but names no key file`);
        for (const key of rel.keys) keyed.push({ file: f, key });
      }
    });
    const r = await c.exec(['bash', '-c', stageScript(d.files, keyed)], { onStdoutLine: (l) => l.startsWith('unpacked ') && log(l) });
    if (r.exitCode === 4) throw new UserError(`a package failed its signature check: ${r.stderr.trim().split('\n').pop()}`);
    if (r.exitCode !== 0) throw new UserError(`unpacking the packages failed: ${r.stderr.trim().split('\n').slice(-3).join(' ')}`);
  },
};
