/** Which known names a mistyped one was probably meant to be. */

/** At most this many names are suggested for one request. */
export const MAX_SUGGESTIONS = 3;

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
 * The names nearest to one that is not there (a package, a manifest field): the same name in another case
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
