import type { PackageFamily } from '../registry/types.js';

/** At most this many names are suggested for one request. */
const MAX_SUGGESTIONS = 3;

/**
 * Edit distance with adjacent transpositions (optimal string alignment): `jqq` is 1 from `jq`,
 * `crul` 1 from `curl`. Stops counting past `limit` (the answer is then limit + 1).
 */
export function editDistance(a: string, b: string, limit = Number.POSITIVE_INFINITY): number {
  if (Math.abs(a.length - b.length) > limit) return limit + 1;
  let prev2: number[] = [];
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    let rowMin = i;
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let d = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d = Math.min(d, prev2[j - 2]! + 1);
      cur.push(d);
      rowMin = Math.min(rowMin, d);
    }
    if (rowMin > limit) return limit + 1;
    prev2 = prev;
    prev = cur;
  }
  return prev[b.length]!;
}

/**
 * The names of the repositories nearest to one that is not there: the same name in another case
 * (rpm's `ImageMagick`), then the fewest edits (a typo: one edit in a short name, two from eight
 * letters on, three from fourteen), then names that start with it (`poppler` → `poppler-utils`,
 * shortest first). Ties go alphabetically, so the answer is the same on every run.
 */
export function nearestNames(name: string, names: Iterable<string>, max = MAX_SUGGESTIONS): string[] {
  const lower = name.toLowerCase();
  const limit = lower.length < 8 ? 1 : lower.length < 14 ? 2 : 3;
  const scored: Array<{ n: string; score: number }> = [];
  for (const n of names) {
    if (n === name) continue;
    const l = n.toLowerCase();
    if (l === lower) scored.push({ n, score: 0 });
    else if (l.startsWith(lower) && /^[-.+_0-9]/.test(l.slice(lower.length))) scored.push({ n, score: 10 + l.length - lower.length });
    else {
      const d = editDistance(lower, l, limit);
      if (d <= limit) scored.push({ n, score: d });
    }
  }
  return scored
    .sort((x, y) => x.score - y.score || x.n.localeCompare(y.n))
    .slice(0, max)
    .map((x) => x.n);
}

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
