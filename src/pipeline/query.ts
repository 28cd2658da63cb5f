import type { Arch } from '../registry/arch.js';
import { loadRuntime, loadRuntimeFile, loadTarget } from '../registry/load.js';
import type { Runtime } from '../registry/types.js';
import type { Backend, PackageRequest, ResolveContext, WeakNode } from '../resolve/backend.js';
import type { SearchHit } from '../resolve/search.js';
import type { Runner } from '../runner/types.js';
import { UserError } from '../util/errors.js';
import { DEFAULT_METADATA_MAX_AGE_MINUTES, backendFor, buildImageSource, parseRepos, repositoryLines } from './build.js';
import { BuildSession, type SessionEvents } from '../stage/session.js';

/** Where to ask the package manager something, as the options of `yumda search` and `yumda why` say it. */
export interface QuerySpec {
  target: string;
  arch: Arch;
  repos: string[];
  defaultRepos?: boolean;
  buildImage?: string | undefined;
  network?: string | undefined;
  refresh?: boolean;
  local?: boolean;
  /** The packages come from this target's distribution, for a layer that brings its own C library: the runtime provides nothing. */
  from?: string | undefined;
  runtimeManifest?: string | undefined;
}

/**
 * Runs `ask` with the package manager of the target, reading the repository metadata as a build
 * does: the same build container and metadata volume, fetched only when what the volume holds is
 * older than a build would reuse.
 */
async function withPackageManager<T>(spec: QuerySpec, events: SessionEvents, ask: (c: Runner, ctx: ResolveContext, backend: Backend) => Promise<T>): Promise<T> {
  const target = loadTarget(spec.from ?? spec.target);
  if (!target.architectures.includes(spec.arch.lambda)) {
    throw new UserError(`target ${target.id} has no ${spec.arch.lambda} build`, { hint: `its architectures: ${target.architectures.join(', ')}` });
  }
  const repositories = [...(spec.defaultRepos === false ? [] : target.repositories), ...parseRepos(target, spec.repos)];
  if (repositories.length === 0) throw new UserError('--no-default-repos leaves no repository: add at least one --repo');
  const deploy: Runtime = spec.runtimeManifest ? loadRuntimeFile(spec.runtimeManifest) : loadRuntime(loadTarget(spec.target).runtime);
  const runtime: Runtime = spec.from ? { ...deploy, family: target.family, packages: [], libraries: [], symbolVersions: [] } : deploy;
  const ctx: ResolveContext = { target, runtime, arch: spec.arch, repositories };
  const backend = backendFor(target);
  const session = new BuildSession({
    backend,
    ctx,
    buildImage: spec.buildImage,
    network: spec.network,
    freshness: { maxAgeMinutes: DEFAULT_METADATA_MAX_AGE_MINUTES, force: !!spec.refresh },
    events,
    imageSource: buildImageSource(target),
    repositories: repositoryLines(target, spec.arch, repositories).join(', '),
    local: !!spec.local,
  });
  try {
    return await ask(await session.get(), ctx, backend);
  } finally {
    await session.close();
  }
}

/** The packages of the target's repositories whose name or summary holds every word, best first. */
export function searchPackages(spec: QuerySpec, words: string[], limit: number, events: SessionEvents): Promise<{ hits: SearchHit[]; total: number; ctx: ResolveContext }> {
  return withPackageManager(spec, events, async (c, ctx, backend) => {
    events.step(`searching the ${ctx.target.id} repositories for ${words.join(' ')}`);
    return { ...(await backend.search(c, ctx, words, limit, events.detail)), ctx };
  });
}

/**
 * The closure of the requests with recommended packages installed too, or undefined where the
 * package manager's weak dependencies are not read (`yumda why` of a package the plan leaves out).
 */
export function closureWithRecommends(spec: QuerySpec, requests: PackageRequest[], events: SessionEvents): Promise<WeakNode[] | undefined> {
  const target = loadTarget(spec.from ?? spec.target);
  if (!backendFor(target).withRecommends) return Promise.resolve(undefined);
  return withPackageManager(spec, events, async (c, ctx, backend) => {
    events.step(`resolving ${requests.map((r) => r.name).join(', ')} with recommended packages`);
    return backend.withRecommends!(c, ctx, requests, events.detail);
  });
}
