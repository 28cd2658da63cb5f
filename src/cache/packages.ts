import { existsSync } from 'node:fs';
import path from 'node:path';
import type { PlannedPackage } from '../resolve/plan.js';
import type { FileTree, TreeEntry } from '../tree/types.js';
import type { ContentStore } from './content-store.js';
import { JsonStore } from './json-store.js';

/** A package as unpacked: its tree and the alternatives its maintainer scripts register. */
export interface UnpackedPackage {
  tree: FileTree;
  alternatives: string;
}

type Row = { p: string; k: 'f'; m: number; s: number; h: string } | { p: string; k: 'l'; t: string } | { p: string; k: 'd'; m: number };

interface Index {
  v: 1;
  entries: Row[];
  alternatives: string;
}

/**
 * Unpacked packages by name, version, architecture and checksum, as trees of references into
 * the content store: a package is downloaded and unpacked once, then reused by every build and
 * target that plans it.
 */
export class PackageCache {
  private readonly store: JsonStore<Index>;

  constructor(dir: string, private readonly content: ContentStore) {
    this.store = new JsonStore<Index>(dir);
  }

  static key(p: Pick<PlannedPackage, 'name' | 'version' | 'arch' | 'checksum'>): string {
    const raw = `${p.name}_${p.version}_${p.arch}_${p.checksum?.value.slice(0, 16) ?? 'nosum'}`;
    return raw.replace(/[^A-Za-z0-9._+-]/g, (c) => `%${c.charCodeAt(0).toString(16)}`);
  }

  get(p: PlannedPackage): UnpackedPackage | undefined {
    const hit = this.store.get(PackageCache.key(p));
    if (!hit) return undefined;
    const tree: FileTree = new Map();
    for (const r of hit.value.entries) {
      let e: TreeEntry;
      if (r.k === 'f') {
        const hostPath = this.content.pathOf(r.h);
        if (!existsSync(hostPath)) return undefined; // content cleaned away: unpack again
        e = { kind: 'file', path: r.p, mode: r.m, size: r.s, content: { kind: 'file', hostPath }, pkg: p.name };
      } else if (r.k === 'l') e = { kind: 'symlink', path: r.p, target: r.t, pkg: p.name };
      else e = { kind: 'dir', path: r.p, mode: r.m, pkg: p.name };
      tree.set(r.p, e);
    }
    return { tree, alternatives: hit.value.alternatives };
  }

  put(p: PlannedPackage, u: UnpackedPackage): void {
    const entries: Row[] = [];
    for (const e of u.tree.values()) {
      if (e.kind === 'file') {
        if (e.content.kind !== 'file') throw new Error('package cache: file content must be in the content store');
        entries.push({ p: e.path, k: 'f', m: e.mode, s: e.size, h: path.basename(e.content.hostPath) });
      } else if (e.kind === 'symlink') entries.push({ p: e.path, k: 'l', t: e.target });
      else entries.push({ p: e.path, k: 'd', m: e.mode });
    }
    this.store.put(PackageCache.key(p), { v: 1, entries, alternatives: u.alternatives });
  }
}
