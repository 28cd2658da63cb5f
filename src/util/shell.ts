/**
 * One word for a POSIX shell: left bare when it holds only characters no shell treats specially,
 * else single-quoted. Generated scripts stay readable (`/opt/bin/tar`, not `'/opt/bin/tar'`) and
 * any byte a path may hold is still safe.
 */
export function shellQuote(s: string): string {
  return /^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}
