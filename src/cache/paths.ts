import { accessSync, constants, mkdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { UserError } from '../util/errors.js';

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
    const why =
      code === 'ENOTDIR' || code === 'EEXIST'
        ? 'a file is in the way'
        : code === 'EROFS'
          ? 'it is on a read-only file system'
          : code === 'EACCES' || code === 'EPERM'
            ? 'permission denied'
            : String(code ?? e);
    throw new UserError(`cannot use ${dir} as the cache directory (${why})`, { hint: 'point --cache-dir (or XDG_CACHE_HOME) at a writable directory' });
  }
}

/**
 * The cache directory's layout. Everything in it is written under a temporary name and renamed,
 * so builds running at once share it safely; anything in it can be deleted at any time.
 */
export interface CachePaths {
  root: string;
  /** File contents by SHA-256 (staged trees, rewritten files). */
  content: string;
  /** One index per unpacked package: its tree, as references into `content`. */
  packages: string;
  /** Resolved plans, by the hash of what decides them. */
  plans: string;
  /** Files recipes' post-stage commands produced, by plan and commands. */
  postStage: string;
  /** Files the packages' maintainer scripts generated, by plan, runtime and build image. */
  scripts: string;
  /** Finished layer zips, by the digest of the layer they hold. */
  zips: string;
  /** Compressed trees of packed layers, by the digest of the tree they hold. */
  packs: string;
}

export function cachePaths(override?: string): CachePaths {
  const root = cacheDir(override);
  return {
    root,
    content: path.join(root, 'content'),
    packages: path.join(root, 'packages'),
    plans: path.join(root, 'plans'),
    postStage: path.join(root, 'post-stage'),
    scripts: path.join(root, 'scripts'),
    zips: path.join(root, 'zips'),
    packs: path.join(root, 'packs'),
  };
}
