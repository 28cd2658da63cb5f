import type { PackageFamily } from '../registry/types.js';
import { MAX_SUGGESTIONS, nearestNames } from '../util/nearest.js';

/** The name the other family gives what this one calls `name`, from the registry's pairs (either way round). */
export function otherFamilyName(name: string, family: PackageFamily, pairs: ReadonlyArray<{ rpm: string; deb: string }>): string | undefined {
  const other: PackageFamily = family === 'deb' ? 'rpm' : 'deb';
  const lower = name.toLowerCase();
  return pairs.find((p) => p[other].toLowerCase() === lower)?.[family];
}

/**
 * What to suggest for a request the target lacks: its family's name for the other family's name
 * (when the repositories have it, or when their names could not be read), then the nearest names.
 */
export function suggestionsFor(name: string, family: PackageFamily, names: ReadonlySet<string> | undefined, pairs: ReadonlyArray<{ rpm: string; deb: string }>): string[] {
  const translated = otherFamilyName(name, family, pairs);
  const out = translated && translated !== name && (!names || names.has(translated)) ? [translated] : [];
  if (names) for (const n of nearestNames(name, names)) if (!out.includes(n) && out.length < MAX_SUGGESTIONS) out.push(n);
  return out;
}

/** `did you mean jq?`, or for several requests `did you mean jq for jqq, curl or cur for crul?`; undefined when there is nothing to say. */
export function suggestionText(suggestions: ReadonlyMap<string, string[]>): string | undefined {
  const some = [...suggestions].filter(([, s]) => s.length);
  if (!some.length) return undefined;
  if (suggestions.size === 1) return `did you mean ${orList(some[0]![1])}?`;
  return `did you mean ${some.map(([n, s]) => `${orList(s)} for ${n}`).join(', ')}?`;
}

function orList(names: string[]): string {
  return names.length === 1 ? names[0]! : `${names.slice(0, -1).join(', ')} or ${names.at(-1)}`;
}
