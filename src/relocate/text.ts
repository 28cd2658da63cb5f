/**
 * Paths written in text files (config files, scripts): found by pattern, replaced by their
 * relocated address when the layer ships what they name. Pure.
 */

const NUL = 0;

/** Text means: no NUL byte in the first 8 KiB and valid UTF-8 throughout. */
export function isText(buf: Buffer): boolean {
  const head = buf.subarray(0, 8192);
  if (head.includes(NUL)) return false;
  try {
    new TextDecoder('utf-8', { fatal: true }).decode(buf);
    return true;
  } catch {
    return false;
  }
}

/**
 * Absolute paths under the roots packages install into. The character before must not continue a
 * word, a path or a variable (so `http://host/usr/x`, `./usr/x` and `${prefix}/lib` are left alone),
 * except compiler flags (`-L/usr/lib`).
 */
const PATH_IN_TEXT = /(?:(?<=-[LIR])|(?<![\w.~/:@$}%-]))\/(?:usr|etc|var|lib|lib64|bin|sbin|opt)(?:\/[\w.+@%,-]+)*\/?/g;

export interface TextRewrite {
  from: string;
  to: string;
}

/**
 * Replaces each path in `text` for which `map` returns a new address. `map` receives the path
 * without a trailing slash; the slash is kept.
 */
export function rewritePathsInText(text: string, map: (p: string) => string | undefined): { text: string; rewrites: TextRewrite[] } {
  const rewrites: TextRewrite[] = [];
  const out = text.replace(PATH_IN_TEXT, (match) => {
    const slash = match.length > 1 && match.endsWith('/');
    const p = slash ? match.slice(0, -1) : match;
    const to = map(p);
    if (to === undefined || to === p) return match;
    rewrites.push({ from: p, to });
    return slash ? to + '/' : to;
  });
  return { text: out, rewrites };
}

/** The interpreter line of a script, if any: `#!/usr/bin/env python3` → path and argument. */
export function parseShebang(buf: Buffer): { interpreter: string; arg: string | undefined; lineEnd: number } | undefined {
  if (buf.length < 3 || buf[0] !== 0x23 || buf[1] !== 0x21) return undefined;
  let end = buf.indexOf(0x0a);
  if (end < 0) end = buf.length;
  const line = buf.toString('utf8', 2, end).trim();
  const m = /^(\S+)(?:\s+(.*))?$/.exec(line);
  if (!m?.[1]) return undefined;
  return { interpreter: m[1], arg: m[2]?.trim() || undefined, lineEnd: end };
}
