/**
 * An English noun for a count: `file` for 1, `files` otherwise; `library` → `libraries`,
 * `match` → `matches`. `many` names an irregular plural.
 */
export function noun(n: number, one: string, many?: string): string {
  if (n === 1) return one;
  if (many) return many;
  if (/[^aeiou]y$/.test(one)) return `${one.slice(0, -1)}ies`;
  if (/(s|x|z|ch|sh)$/.test(one)) return `${one}es`;
  return `${one}s`;
}

/** A count with its noun: `1 package`, `3 packages`, `0 files`. */
export function plural(n: number, one: string, many?: string): string {
  return `${n} ${noun(n, one, many)}`;
}
