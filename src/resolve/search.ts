/** A package of the target's repositories that matches a search, as `yumda search` lists it. */
export interface SearchHit {
  name: string;
  /** The version the repositories offer (the candidate apt or dnf would install). */
  version: string;
  arch: string;
  summary: string;
  repository?: string;
}

/** How well a package's name matches: an exact name first, then a prefix, then a substring, then only its summary. */
export type MatchKind = 'exact' | 'prefix' | 'substring' | 'summary';

const ORDER: Record<MatchKind, number> = { exact: 0, prefix: 1, substring: 2, summary: 3 };

/**
 * Whether a package matches every word (case-insensitively, in its name or its summary), and how
 * well its name does: the best of the words. Undefined when a word matches neither.
 */
export function matchKind(name: string, summary: string, words: readonly string[]): MatchKind | undefined {
  const n = name.toLowerCase();
  const s = summary.toLowerCase();
  let best: MatchKind = 'summary';
  for (const raw of words) {
    const w = raw.toLowerCase();
    const kind: MatchKind | undefined = n === w ? 'exact' : n.startsWith(w) ? 'prefix' : n.includes(w) ? 'substring' : s.includes(w) ? 'summary' : undefined;
    if (!kind) return undefined;
    if (ORDER[kind] < ORDER[best]) best = kind;
  }
  return best;
}

/**
 * The hits that match every word, best first: by match kind, then the shorter name (`jq` before
 * `jq-doc`, `libjq1` before `libjq-dev`), then by name. One entry per name (the first).
 */
export function rankHits<T extends Pick<SearchHit, 'name' | 'summary'>>(hits: readonly T[], words: readonly string[]): Array<T & { match: MatchKind }> {
  const seen = new Set<string>();
  const out: Array<T & { match: MatchKind }> = [];
  for (const h of hits) {
    if (seen.has(h.name)) continue;
    const match = matchKind(h.name, h.summary, words);
    if (!match) continue;
    seen.add(h.name);
    out.push({ ...h, match });
  }
  return out.sort((a, b) => ORDER[a.match] - ORDER[b.match] || a.name.length - b.name.length || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/** A word as a POSIX extended regular expression matching it literally (apt-cache search takes regexes). */
export function literalPattern(word: string): string {
  return word.replace(/[.^$*+?()[\]{}|\\]/g, '\\$&');
}
