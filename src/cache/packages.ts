import type { PlannedPackage } from '../resolve/plan.js';
import type { FileTree } from '../tree/types.js';
import type { ContentStore } from './content-store.js';
import { TreeCache } from './trees.js';

/** A package as unpacked: its tree and the alternatives its maintainer scripts register. */
export interface UnpackedPackage {
  tree: FileTree;
  alternatives: string;
}

/**
 * Unpacked packages by name, version, architecture and checksum, as trees of references into
 * the content store: a package is downloaded and unpacked once, then reused by every build and
 * target that plans it. One whose cached files are gone or damaged is unpacked again.
 */
export class PackageCache {
  private readonly trees: TreeCache;

  constructor(dir: string, content: ContentStore, warn: (line: string) => void) {
    this.trees = new TreeCache(dir, content, warn);
  }

  static key(p: Pick<PlannedPackage, 'name' | 'version' | 'arch' | 'checksum'>): string {
    // the suffix names how packages are staged: a staging that keeps more (the config files a
    // maintainer script installs with ucf, since s2) must not reuse trees staged without it
    const raw = `${p.name}_${p.version}_${p.arch}_${p.checksum?.value.slice(0, 16) ?? 'nosum'}_s2`;
    return raw.replace(/[^A-Za-z0-9._+-]/g, (c) => `%${c.charCodeAt(0).toString(16)}`);
  }

  get(p: PlannedPackage): UnpackedPackage | undefined {
    return this.trees.get(PackageCache.key(p), p.name, { what: `package ${p.name} ${p.version}`, instead: `unpacking ${p.name} again` });
  }

  put(p: PlannedPackage, u: UnpackedPackage): void {
    this.trees.put(PackageCache.key(p), u.tree.values(), u.alternatives);
  }
}
