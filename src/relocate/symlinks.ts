import path from 'node:path';
import { normalizeAbsolute } from '../util/paths.js';

/** The absolute path a symlink at `linkPath` names, resolved lexically (as the kernel would from its directory). */
export function absoluteLinkTarget(linkPath: string, target: string): string {
  return target.startsWith('/') ? normalizeAbsolute(target) : normalizeAbsolute(path.posix.join(path.posix.dirname(linkPath), target));
}

/** A relative link from `linkPath` to `targetPath`, both absolute: what keeps a layer movable. */
export function relativeLink(linkPath: string, targetPath: string): string {
  return path.posix.relative(path.posix.dirname(linkPath), targetPath) || '.';
}

export interface LinkLookup {
  /** The entry kind at an exact path, or undefined. */
  kindAt(p: string): 'file' | 'dir' | 'symlink' | undefined;
  linkTarget(p: string): string | undefined;
}

/**
 * Follows `p` component by component through the symlinks of a tree, as path resolution does.
 * Returns the final path when every component exists, or undefined (dangling, a loop, or a
 * component that is a file).
 */
export function resolveInTree(p: string, tree: LinkLookup, maxHops = 40): string | undefined {
  let hops = 0;
  const parts = p.split('/').filter(Boolean);
  let cur = '';
  for (let i = 0; i < parts.length; i++) {
    const next = `${cur}/${parts[i]}`;
    const kind = tree.kindAt(next);
    if (kind === undefined) return undefined;
    if (kind === 'symlink') {
      if (++hops > maxHops) return undefined;
      const resolved = absoluteLinkTarget(next, tree.linkTarget(next)!);
      const rest = parts.slice(i + 1);
      parts.splice(0, parts.length, ...resolved.split('/').filter(Boolean), ...rest);
      cur = '';
      i = -1;
      continue;
    }
    if (kind === 'file' && i < parts.length - 1) return undefined;
    cur = next;
  }
  return cur || '/';
}
