import path from 'node:path';
import type { FileTree } from './types.js';

/** Where a symlink at `at` points, as an absolute normalized path of the tree. */
export function linkTargetPath(at: string, target: string): string {
  return path.posix.normalize(target.startsWith('/') ? target : path.posix.join(path.posix.dirname(at), target));
}

/** The path a chain of symlinks ends at (links in parent directories are not followed). */
export function followLinks(tree: FileTree, p: string): string {
  let cur = p;
  for (let hops = 0; hops < 40; hops++) {
    const e = tree.get(cur);
    if (e?.kind !== 'symlink') return cur;
    cur = linkTargetPath(cur, e.target);
  }
  return cur;
}

/**
 * Deletes the symlinks that pointed at what was removed (and links to those links): they would
 * dangle. `removed` gains the links deleted.
 */
export function dropLinksTo(tree: FileTree, removed: Set<string>): void {
  for (let changed = true; changed; ) {
    changed = false;
    for (const [p, e] of tree) {
      if (e.kind !== 'symlink' || !removed.has(linkTargetPath(p, e.target))) continue;
      tree.delete(p);
      removed.add(p);
      changed = true;
    }
  }
}
