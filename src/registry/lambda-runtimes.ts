import type { RuntimeDeprecation, Target } from './types.js';

/** PublishLayerVersion takes at most this many CompatibleRuntimes (Lambda API reference). */
export const MAX_COMPATIBLE_RUNTIMES = 15;

/** The deprecation dates of one of the target's runtimes, when AWS has announced them. */
export function deprecationOf(target: Target, runtime: string): RuntimeDeprecation | undefined {
  return target.runtimeDeprecations?.dates.find((d) => d.runtime === runtime);
}

/**
 * `python3.9 (deprecated 2025-12-15)` once the date has passed, `java17 (deprecated from
 * 2027-06-30)` when it is less than a year away (AWS's notices start well before), else the bare
 * identifier.
 */
export function runtimeLabel(target: Target, runtime: string, today: string): string {
  const d = deprecationOf(target, runtime);
  if (!d) return runtime;
  if (d.deprecated <= today) return `${runtime} (deprecated ${d.deprecated})`;
  const yearAhead = `${Number(today.slice(0, 4)) + 1}${today.slice(4)}`;
  return d.deprecated <= yearAhead ? `${runtime} (deprecated from ${d.deprecated})` : runtime;
}

/**
 * The runtimes a published layer version names: the target's, without those whose functions can
 * no longer be updated (they cannot take the new version), and at most 15, Lambda's limit. When
 * more remain, those supported longest are kept (a runtime with no announced date counts as
 * newest): the ones left out are the first to be deprecated. Order follows the target's list.
 */
export function publishableRuntimes(target: Target, today: string): { runtimes: string[]; leftOut: string[] } {
  const open = target.compatibleRuntimes.filter((r) => {
    const until = deprecationOf(target, r)?.blockUpdate;
    return !until || until > today;
  });
  const blocked = target.compatibleRuntimes.filter((r) => !open.includes(r));
  if (open.length <= MAX_COMPATIBLE_RUNTIMES) return { runtimes: open, leftOut: blocked };
  const FAR = '9999-12-31';
  const byLongest = [...open].sort((a, b) => (deprecationOf(target, b)?.deprecated ?? FAR).localeCompare(deprecationOf(target, a)?.deprecated ?? FAR));
  const keep = new Set(byLongest.slice(0, MAX_COMPATIBLE_RUNTIMES));
  return { runtimes: open.filter((r) => keep.has(r)), leftOut: [...blocked, ...open.filter((r) => !keep.has(r))] };
}
