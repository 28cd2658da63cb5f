/**
 * yumda's rpm helper (images/helpers/yumda_rpm.py) in the build container, as resolving and
 * staging both run it: the job it reads, how it is run, and its answers and errors as the user
 * reads them. See resolve.ts for why the closure is resolved into an empty root.
 */
import path from 'node:path';
import type { Runner } from '../../runner/types.js';
import { repositoryLocation } from '../../registry/repositories.js';
import type { Repository, RuntimePackage } from '../../registry/types.js';
import { UserError } from '../../util/errors.js';
import { projectRoot } from '../../util/paths.js';
import type { Log, PackageRequest, ResolveContext, VersionPin } from '../../resolve/backend.js';
import { NotFoundError, notFoundError } from '../../resolve/backend.js';
import { runtimeCapabilities } from './plan.js';
import { parseEvr, parseReldep, satisfies } from './version.js';
import { checkHelperReply, type ErrorReply, type HelperCommand, type HelperError, type HelperReplies, type Releases } from './helper-reply.js';

export type { HelperError, Releases } from './helper-reply.js';

export const HELPER = '/yumda/bin/yumda_rpm.py';
export const JOB = '/yumda/etc/job.json';
/** The job with the target's optional repositories (SPAL) added: asked where a package was not found. */
export const JOB_OPTIONAL = '/yumda/etc/job-optional.json';
export const INSTALLROOT = '/yumda/root';
export const CACHE = '/yumda/cache';
export const DOWNLOADS = '/yumda/rpms';

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
export function releasever(target: ResolveContext['target']): string {
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

/** A manifest version `[epoch:]version-release` as the helper looks it up. */
export function runtimeNevr(p: RuntimePackage): RpmJob['runtime'][number] | undefined {
  const e = parseEvr(p.version);
  if (e.release === undefined) return undefined;
  return { name: p.name, epoch: e.epoch || null, version: e.version, release: e.release };
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

/** The helper's JSON answer, or the one-line error it reports. */
export function parseHelperOutput<T>(stdout: string, stderr: string, exitCode: number, what: string): T | ErrorReply {
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
export const DOWNLOADED = /^downloaded (\S+)$/;

/** Metadata is fetched by `refresh` only; the steps after it never expire what it found. */
const NEVER_EXPIRE = String(10 * 365 * 24 * 3600);

/**
 * Runs one helper command. The helper takes the cache volume's lock itself, for every command
 * (builds may share the volume), and answers every failure in JSON: an error answer is thrown here
 * as the user reads it.
 */
export async function helper<C extends HelperCommand>(
  c: Runner,
  ctx: ResolveContext,
  args: readonly [C, ...string[]],
  log: Log,
  what: string,
  opts: { env?: Record<string, string>; requests?: PackageRequest[] } = {},
): Promise<HelperReplies[C]> {
  const out = await helperAnswer(c, ctx, args, log, what, opts);
  if (isError(out)) throw helperError(out.error, ctx, opts.requests);
  return out;
}

/** The helper's answer, an error answer included (for the callers that look into it first). */
export async function helperAnswer<C extends HelperCommand>(
  c: Runner,
  ctx: ResolveContext,
  args: readonly [C, ...string[]],
  log: Log,
  what: string,
  opts: { env?: Record<string, string> } = {},
): Promise<HelperReplies[C] | ErrorReply> {
  const manager = rpmManager(ctx.target);
  const r = await c.exec([interpreter(ctx), HELPER, ...args], {
    env: { LC_ALL: 'C.UTF-8', YUMDA_METADATA_EXPIRE: NEVER_EXPIRE, ...opts.env },
    // the helper's `downloaded FILE` lines are progress (stagingProgress counts them); the rest is the manager's own
    onStderrLine: (l) => {
      const line = l.trim();
      if (line) log(DOWNLOADED.test(line) ? line : `${manager}: ${line}`);
    },
  });
  return checkHelperReply(args[0], parseHelperOutput<HelperReplies[C]>(r.stdout, r.stderr, r.exitCode, `${manager} (${what})`));
}

/** The repository ids of yumda's own for the ones a release package's .repo files named (`amazonlinux-spal` for SPAL's own name). */
export function releaseRepoIds(releases: Releases | undefined): Map<string, string> {
  const out = new Map<string, string>();
  for (const [id, rel] of Object.entries(releases ?? {})) for (const r of rel.repos) out.set(r, id);
  return out;
}

export function isError(x: unknown): x is ErrorReply {
  return typeof x === 'object' && x !== null && 'error' in x;
}

export function requestSpec(r: PackageRequest): string {
  return r.version ? `${r.name}-${r.version}` : r.name;
}
