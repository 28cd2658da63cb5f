/** Debian control-file stanzas (Packages indices, `apt-cache show`, dpkg status). Pure. */

export type Stanza = Map<string, string>;

export function parseDeb822(text: string): Stanza[] {
  const out: Stanza[] = [];
  let cur: Stanza = new Map();
  let lastKey: string | undefined;
  for (const line of text.split('\n')) {
    if (line.trim() === '') {
      if (cur.size) out.push(cur);
      cur = new Map();
      lastKey = undefined;
      continue;
    }
    if ((line.startsWith(' ') || line.startsWith('\t')) && lastKey) {
      cur.set(lastKey, `${cur.get(lastKey)}\n${line.slice(1)}`);
      continue;
    }
    const i = line.indexOf(':');
    if (i <= 0) continue;
    lastKey = line.slice(0, i);
    cur.set(lastKey, line.slice(i + 1).trim());
  }
  if (cur.size) out.push(cur);
  return out;
}

/**
 * `libc6 (>= 2.34), libfoo1 | libbar1, awk:any` → [['libc6'], ['libfoo1', 'libbar1'], ['awk']]:
 * dependency names without version constraints or architecture qualifiers.
 */
export function parseDependsField(field: string | undefined): string[][] {
  if (!field) return [];
  return field
    .split(',')
    .map((clause) =>
      clause
        .split('|')
        .map((alt) =>
          alt
            .trim()
            .replace(/\s*\(.*\)\s*/, '')
            .replace(/\s*\[.*\]\s*/, '')
            .replace(/:\w+$/, '')
            .trim(),
        )
        .filter(Boolean),
    )
    .filter((c) => c.length > 0);
}

export function formatStanza(fields: Array<[string, string | undefined]>): string {
  return fields
    .filter(([, v]) => v !== undefined && v !== '')
    .map(([k, v]) => `${k}: ${v}`)
    .join('\n');
}
