/**
 * Paths written in text files (config files, scripts): found by pattern, replaced by their
 * relocated address when the layer ships what they name. Pure.
 */

const NUL = 0;
/** The head of a file in which a NUL byte makes it binary. */
export const TEXT_HEAD = 8192;

/** Text means: no NUL byte in the first 8 KiB and valid UTF-8 throughout. */
export function isText(buf: Buffer): boolean {
  const head = buf.subarray(0, TEXT_HEAD);
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
 * except compiler flags (`-L/usr/lib`), the path of a `file://` URL (LibreOffice's
 * `BRAND_BASE_DIR=file:///usr/lib/libreoffice`) and a colon: every element of a list
 * (`CLASSPATH=/usr/share/java/a.jar:/usr/share/java/b.jar`) is a path.
 *
 * The slash comes first and the test of what precedes it after, as a lookbehind over the slash:
 * the same matches, but tested at each `/` instead of at every character (issue 24: 17 times
 * faster over 24,000 text files, and the first entry of relocation's profile before).
 */
export const PATH_IN_TEXT = /\/(?<=(?:-[LIR]|(?<![\w.+-])file:\/\/|^|[^\w.~/@$}%-])\/)(?:usr|etc|var|lib|lib64|bin|sbin|opt)(?:\/[\w.+@%,-]+)*\/?/g;

export interface TextRewrite {
  from: string;
  to: string;
}

/** `NAME=value` (shell, or a shell-like config), a plain word or path as value, quoted or not. */
const ASSIGNMENT = /^[ \t]*(?:export[ \t]+|local[ \t]+|readonly[ \t]+)?([A-Za-z_]\w*)=(["']?)([\w.+@%,-]+(?:\/[\w.+@%,-]+)*)\2[ \t]*(?:[;#].*)?$/gm;
/** A variable right after a path: `/usr/lib/$APPNAME`, `/usr/lib/${APPNAME}`. */
const VARIABLE = /^\$\{?([A-Za-z_]\w*)\}?/;

function assignments(text: string): Map<string, Set<string>> {
  const vars = new Map<string, Set<string>>();
  for (const m of text.matchAll(ASSIGNMENT)) {
    const set = vars.get(m[1]!) ?? new Set<string>();
    set.add(m[3]!);
    vars.set(m[1]!, set);
  }
  return vars;
}

/**
 * Replaces each path in `text` for which `map` returns a new address. `map` receives the path
 * without a trailing slash; the slash is kept.
 *
 * A directory followed by a variable (`LIBDIR=/usr/lib/$APPNAME`, Debian's chromium launcher) is
 * too broad to move alone, but the script says what it joins: when a value the script assigns to
 * that variable makes a path the layer ships (`/usr/lib/chromium`), the directory moves with it.
 */
export function rewritePathsInText(text: string, map: (p: string) => string | undefined): { text: string; rewrites: TextRewrite[] } {
  const rewrites: TextRewrite[] = [];
  let vars: Map<string, Set<string>> | undefined;
  const out = text.replace(PATH_IN_TEXT, (match: string, offset: number) => {
    const slash = match.length > 1 && match.endsWith('/');
    const p = slash ? match.slice(0, -1) : match;
    const to = map(p);
    if (to !== undefined && to !== p) {
      rewrites.push({ from: p, to });
      return slash ? to + '/' : to;
    }
    const variable = slash ? VARIABLE.exec(text.slice(offset + match.length, offset + match.length + 256)) : null;
    if (!variable) return match;
    vars ??= assignments(text);
    for (const value of vars.get(variable[1]!) ?? []) {
      const joined = map(`${p}/${value}`);
      if (joined === undefined || !joined.endsWith(`/${value}`)) continue;
      const dir = joined.slice(0, -value.length - 1);
      if (dir === p) continue;
      rewrites.push({ from: `${p}/${variable[0]}`, to: `${dir}/${variable[0]}` });
      return `${dir}/`;
    }
    return match;
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
