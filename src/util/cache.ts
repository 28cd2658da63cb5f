import os from 'node:os';
import path from 'node:path';

/** yumda's cache: --cache-dir, else $XDG_CACHE_HOME/yumda, else ~/.cache/yumda. */
export function cacheDir(override?: string): string {
  if (override) return path.resolve(override);
  const xdg = process.env.XDG_CACHE_HOME;
  return path.join(xdg && path.isAbsolute(xdg) ? xdg : path.join(os.homedir(), '.cache'), 'yumda');
}
