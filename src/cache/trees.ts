import { readContent, type Content, type FileTree, type TreeEntry } from '../tree/types.js';
import type { ContentStore } from './content-store.js';
import { droppedLine, JsonStore } from './json-store.js';

/** A tree entry as the cache keeps it: files by the sha256 of their bytes in the content store. */
export type Row = { p: string; k: 'f'; m: number; s: number; h: string } | { p: string; k: 'l'; t: string } | { p: string; k: 'd'; m: number };

/** A file of the content store by its digest: a package's own archive (.deb, .rpm), kept for installing it. */
export interface StoredFile {
  name: string;
  h: string;
  s: number;
}

/** schema/cache-tree.schema.json */
export interface CachedTree {
  entries: Row[];
  alternatives?: string;
  /** The package file the tree was unpacked from (cache/packages), for running its maintainer scripts. */
  archive?: StoredFile;
  /** What else the step that made the tree said about it, as JSON (cache/scripts: failed scripts). */
  note?: string;
}

/** A cached tree as it comes back: the archive as verified content of the store. */
export interface CachedTreeHit {
  tree: FileTree;
  alternatives: string;
  archive?: { name: string; content: Content; size: number };
  note?: string;
}

/** What goes into the cache beside a tree's entries. */
export interface TreeExtras {
  alternatives?: string;
  archive?: { name: string; content: Content; size: number };
  note?: string;
}

/** What a cached tree is for, in the line that says it was dropped: `package jq 1.6`, and what is done instead. */
export interface TreeUse {
  what: string;
  instead: string;
}

/**
 * File trees by key, as rows referencing the content store: the one place a tree goes into the
 * cache and comes back out of it (unpacked packages, the output of recipe commands). A tree comes
 * back only when every file it references is still there with the bytes it was stored with;
 * otherwise it is a miss, and the caller makes the tree again.
 */
export class TreeCache {
  private readonly records: JsonStore<CachedTree>;

  constructor(
    dir: string,
    private readonly content: ContentStore,
    private readonly warn: (line: string) => void,
  ) {
    this.records = new JsonStore<CachedTree>(dir, 'cache-tree');
  }

  get(key: string, pkg: string, use: TreeUse): CachedTreeHit | undefined {
    const hit = this.records.get(key);
    if (!hit) return undefined;
    if ('damaged' in hit) {
      this.warn(droppedLine(`the cached ${use.what} (${hit.file})`, hit.damaged, use.instead));
      return undefined;
    }
    const tree: FileTree = new Map();
    for (const r of hit.value.entries) {
      let e: TreeEntry;
      if (r.k === 'f') {
        const content = this.content.get(r.h, r.s);
        if ('missing' in content) return undefined; // content cleaned away: make the tree again
        if ('damaged' in content) {
          this.content.drop(r.h);
          this.warn(droppedLine(`${r.p} in the cached ${use.what} (${this.content.pathOf(r.h)})`, content.damaged, use.instead));
          return undefined;
        }
        e = { kind: 'file', path: r.p, mode: r.m, size: r.s, content, pkg };
      } else if (r.k === 'l') e = { kind: 'symlink', path: r.p, target: r.t, pkg };
      else e = { kind: 'dir', path: r.p, mode: r.m, pkg };
      tree.set(r.p, e);
    }
    const a = hit.value.archive;
    let archive: CachedTreeHit['archive'];
    if (a) {
      const content = this.content.get(a.h, a.s);
      if ('missing' in content) archive = undefined;
      else if ('damaged' in content) {
        this.content.drop(a.h);
        this.warn(droppedLine(`${a.name} in the cached ${use.what} (${this.content.pathOf(a.h)})`, content.damaged, use.instead));
        return undefined;
      } else archive = { name: a.name, content, size: a.s };
    }
    return { tree, alternatives: hit.value.alternatives ?? '', ...(archive ? { archive } : {}), ...(hit.value.note !== undefined ? { note: hit.value.note } : {}) };
  }

  /** Removes the record of `key` (its contents stay in the store, shared with other trees); returns where it was. */
  drop(key: string): string {
    this.records.drop(key);
    return this.records.file(key);
  }

  /** Stores the entries; bytes held in memory go into the content store first. */
  put(key: string, entries: Iterable<TreeEntry>, extras: TreeExtras = {}): void {
    const rows: Row[] = [];
    for (const e of entries) {
      if (e.kind === 'file') {
        rows.push({ p: e.path, k: 'f', m: e.mode, s: e.size, h: this.hashOf(e.content) });
      } else if (e.kind === 'symlink') rows.push({ p: e.path, k: 'l', t: e.target });
      else rows.push({ p: e.path, k: 'd', m: e.mode });
    }
    const { alternatives, archive, note } = extras;
    this.records.put(key, {
      entries: rows,
      ...(alternatives !== undefined ? { alternatives } : {}),
      ...(archive ? { archive: { name: archive.name, h: this.hashOf(archive.content), s: archive.size } } : {}),
      ...(note !== undefined ? { note } : {}),
    });
  }

  private hashOf(c: Content): string {
    return c.kind === 'file' && c.sha256 ? c.sha256 : this.content.put(readContent(c)).hash;
  }
}
