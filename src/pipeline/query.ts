import type { Arch } from '../registry/arch.js';
import { loadRuntime, loadTarget } from '../registry/load.js';
import type { ResolveContext } from '../resolve/backend.js';
import type { SearchHit } from '../resolve/search.js';
import { UserError } from '../util/errors.js';
import { DEFAULT_METADATA_MAX_AGE_MINUTES, backendFor, buildImageSource, parseRepos, repositoryLines } from './build.js';
import { BuildSession, type SessionEvents } from './session.js';

/** Where to ask the package manager something, as the options of `yumda search` say it. */
export interface QuerySpec {
  target: string;
  arch: Arch;
  repos: string[];
  defaultRepos?: boolean;
  buildImage?: string | undefined;
  network?: string | undefined;
  refresh?: boolean;
  local?: boolean;
}

/**
 * The packages of the target's repositories whose name or summary holds every word, best first.
 * It reads the repository metadata as a build does: the same build container and metadata volume,
 * fetched only when what the volume holds is older than a build would reuse.
 */
export async function searchPackages(
  spec: QuerySpec,
  words: string[],
  limit: number,
  events: SessionEvents,
): Promise<{ hits: SearchHit[]; total: number; ctx: ResolveContext }> {
  const target = loadTarget(spec.target);
  if (!target.architectures.includes(spec.arch.lambda)) {
    throw new UserError(`target ${target.id} has no ${spec.arch.lambda} build`, { hint: `its architectures: ${target.architectures.join(', ')}` });
  }
  const repositories = [...(spec.defaultRepos === false ? [] : target.repositories), ...parseRepos(target, spec.repos)];
  if (repositories.length === 0) throw new UserError('--no-default-repos leaves no repository: add at least one --repo');
  const ctx: ResolveContext = { target, runtime: loadRuntime(target.runtime), arch: spec.arch, repositories };
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
    const c = await session.get();
    events.step(`searching the ${target.id} repositories for ${words.join(' ')}`);
    return { ...(await backend.search(c, ctx, words, limit, events.detail)), ctx };
  } finally {
    await session.close();
  }
}
