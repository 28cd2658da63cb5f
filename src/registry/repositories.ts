import type { OptionalRepository, Repository, Target } from './types.js';

/** Where a repository is, as people (and lock files) read it: its URL, or the release package that configures it. */
export function repositoryLocation(r: Pick<Repository, 'id' | 'url' | 'release'>): string {
  return r.url ?? `${r.id} (configured by ${r.release ?? '?'})`;
}

/** The target's repository enabled by `name` (`--repo spal`), if it has one. */
export function optionalRepository(target: Target, name: string): OptionalRepository | undefined {
  return target.optionalRepositories?.find((o) => o.name === name.trim());
}

/** The optional repositories a target has and a build has not enabled: where a package not found may be. */
export function unusedOptionalRepositories(target: Target, repositories: readonly Repository[]): OptionalRepository[] {
  return (target.optionalRepositories ?? []).filter((o) => !repositories.some((r) => r.id === o.repository.id));
}
