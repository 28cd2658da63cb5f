import semver from 'semver';
import { upstreamSemver } from '../recipes/load.js';

/**
 * The first (newest, in the package manager's order) of `versions` whose upstream part satisfies
 * the semver `range`. Prerelease-looking upstreams (`2.0~rc1`) count as their release.
 */
export function pickUpstream(versions: string[], range: string): string | undefined {
  return versions.find((v) => {
    const u = upstreamSemver(v);
    return u !== undefined && semver.satisfies(u, range);
  });
}

/** Whether a string is a usable upstream range. */
export function isUpstreamRange(range: string): boolean {
  return semver.validRange(range) !== null;
}
