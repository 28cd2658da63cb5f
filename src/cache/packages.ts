import type { PlannedPackage } from '../resolve/plan.js';
import type { Content, FileTree } from '../tree/types.js';
import type { ContentStore } from './content-store.js';
import { TreeCache } from './trees.js';

/**
 * A package as unpacked: its tree, the alternatives its maintainer scripts register, and the
 * package file itself (.deb, .rpm), from which its maintainer scripts run (stage/scripts.ts).
 */
export interface UnpackedPackage {
  tree: FileTree;
  alternatives: string;
  archive?: { name: string; content: Content; size: number };
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
    // maintainer script installs with ucf, since s2; the package file, since s3) must not reuse
    // trees staged without it
    const raw = `${p.name}_${p.version}_${p.arch}_${p.checksum?.value.slice(0, 16) ?? 'nosum'}_s3`;
    return raw.replace(/[^A-Za-z0-9._+-]/g, (c) => `%${c.charCodeAt(0).toString(16)}`);
  }

  /**
   * The package, or undefined to unpack it again; `withArchive`: only with its package file
   * (a build that runs maintainer scripts installs from it).
   */
  get(p: PlannedPackage, withArchive = false): UnpackedPackage | undefined {
    const hit = this.trees.get(PackageCache.key(p), p.name, { what: `package ${p.name} ${p.version}`, instead: `unpacking ${p.name} again` });
    if (!hit || (withArchive && !hit.archive)) return undefined;
    return { tree: hit.tree, alternatives: hit.alternatives, ...(hit.archive ? { archive: hit.archive } : {}) };
  }

  put(p: PlannedPackage, u: UnpackedPackage): void {
    this.trees.put(PackageCache.key(p), u.tree.values(), { alternatives: u.alternatives, ...(u.archive ? { archive: u.archive } : {}) });
  }
}
