/**
 * A string from someone else's archive (an entry name, a symlink target, a manifest field, a
 * program's output), made safe to print on a terminal: C0 and C1 control characters, DEL and the
 * bidirectional overrides are shown as escapes (`\n`, `\x1b`, `\u202e`), so a name can neither
 * move the cursor, clear the screen, nor start a line that looks like yumda's own output.
 * JSON output needs none of this: JSON.stringify already escapes control characters.
 */
export function printable(s: string): string {
  return s.replace(/[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g, (c) => {
    const named = NAMED[c];
    if (named) return named;
    const code = c.charCodeAt(0);
    return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
  });
}

const NAMED: Record<string, string> = { '\n': '\\n', '\r': '\\r', '\t': '\\t' };
