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
import type { Runner } from '../../runner/types.js';
import { newestTargetOf } from '../../registry/load.js';
import { unusedOptionalRepositories } from '../../registry/repositories.js';
import type { Repository } from '../../registry/types.js';
import { UserError } from '../../util/errors.js';
import { sha256 } from '../../util/hash.js';
import type { Backend, Log, PackageRequest, ResolveContext } from '../../resolve/backend.js';
import { rankHits } from '../../resolve/search.js';
import { NotFoundError, notFoundError } from '../../resolve/backend.js';
import { planFromResolution } from './plan.js';
import { compareEvr, formatEvr, type Evr } from './version.js';
import { plural } from '../../util/plural.js';
import { RPM_CACHE_VOLUME_PREFIX } from '../../cache/metadata-volumes.js';
import {
  CACHE,
  DOWNLOADS,
  HELPER,
  HELPER_SOURCE,
  INSTALLROOT,
  JOB,
  JOB_OPTIONAL,
  helper,
  helperAnswer,
  helperError,
  isError,
  releaseRepoIds,
  requestSpec,
  rpmJob,
  rpmManager,
  type HelperError,
} from './helper.js';
import { stageRpms } from './stage.js';

/** The versions the helper found, each once, newest first in rpm's order (epoch, version, release). */
export function newestFirst(found: Evr[]): string[] {
  const unique = new Map(found.map((e) => [formatEvr(e), e]));
  return [...unique.entries()].sort(([, a], [, b]) => compareEvr(b, a)).map(([s]) => s);
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
  const looked = await helperAnswer(c, ctx, ['provides', JOB_OPTIONAL, request.name], log, 'looking in the optional repositories');
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
    const r = await helper(c, ctx, ['refresh', JOB], log, 'reading repositories', {
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
    const answer = await helperAnswer(c, ctx, ['resolve', JOB, ...requests.map(requestSpec)], log, 'resolving');
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
    const r = await helper(c, ctx, ['search', JOB, ...words], log, 'searching');
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
    const r = await helper(c, ctx, ['names', JOB], log, 'listing package names');
    return r.names;
  },

  async candidates(c, ctx, name, log) {
    const r = await helper(c, ctx, ['versions', JOB, name], log, 'listing versions');
    const versions = newestFirst(r.versions);
    if (versions.length === 0) throw notFoundError([{ name }], ctx.target.id);
    return versions;
  },

  stage: stageRpms,
};
