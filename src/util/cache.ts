import { accessSync, constants, mkdirSync } from 'node:fs';
import os from 'node:os';
import { UserError } from './errors.js';
import path from 'node:path';

/** yumda's cache: --cache-dir, else $XDG_CACHE_HOME/yumda, else ~/.cache/yumda. */
export function cacheDir(override?: string): string {
  if (override) return path.resolve(override);
  const xdg = process.env.XDG_CACHE_HOME;
  return path.join(xdg && path.isAbsolute(xdg) ? xdg : path.join(os.homedir(), '.cache'), 'yumda');
}

/** Makes the cache directory, or says in one line why it cannot be one (a file, read-only, no permission). */
export function ensureCacheDir(dir: string): void {
  try {
    mkdirSync(dir, { recursive: true });
    accessSync(dir, constants.W_OK);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const why = code === 'ENOTDIR' || code === 'EEXIST' ? 'a file is in the way' : code === 'EROFS' ? 'it is on a read-only file system' : code === 'EACCES' || code === 'EPERM' ? 'permission denied' : String(code ?? e);
    throw new UserError(`cannot use ${dir} as the cache directory (${why})`, { hint: 'point --cache-dir (or XDG_CACHE_HOME) at a writable directory' });
  }
}
