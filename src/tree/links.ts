import path from 'node:path';
import { normalizeAbsolute } from '../util/paths.js';
import type { FileTree } from './types.js';

/**
 * The absolute path a symlink at `linkPath` names, read lexically from its directory: the name
 * it spells, for mapping links between trees (relocation moves names, not what they lead to).
 * Where a link leads in a tree, through other links, is `resolvePath`'s answer.
 */
export function absoluteLinkTarget(linkPath: string, target: string): string {
  return normalizeAbsolute(target.startsWith('/') ? target : path.posix.join(path.posix.dirname(linkPath), target));
}

/** A relative link from `linkPath` to `targetPath`, both absolute: what keeps a layer movable. */
export function relativeLink(linkPath: string, targetPath: string): string {
  return path.posix.relative(path.posix.dirname(linkPath), targetPath) || '.';
}

/**
 * Deletes the symlinks that pointed at what was removed (and links to those links): they would
 * dangle. `removed` gains the links deleted.
 */
export function dropLinksTo(tree: FileTree, removed: Set<string>): void {
  for (let changed = true; changed; ) {
    changed = false;
    for (const [p, e] of tree) {
      if (e.kind !== 'symlink' || !removed.has(absoluteLinkTarget(p, e.target))) continue;
      tree.delete(p);
      removed.add(p);
      changed = true;
    }
  }
}
