import { bytes, type DirEntry, type FileEntry, type FileTree, type SymlinkEntry, type TreeEntry } from '../../src/tree/types.js';

/** Trees written out in a test: the entries, and the tree they make. */

/** Builds a tree from a literal description. */
export function treeOf(entries: TreeEntry[]): FileTree {
  return new Map(entries.map((e) => [e.path, e]));
}

export function file(path: string, data: Buffer | string, mode = 0o644, pkg?: string): FileEntry {
  const content = bytes(data);
  return { kind: 'file', path, mode, size: (content as { data: Buffer }).data.length, content, ...(pkg ? { pkg } : {}) };
}

export function symlink(path: string, target: string, pkg?: string): SymlinkEntry {
  return { kind: 'symlink', path, target, ...(pkg ? { pkg } : {}) };
}

export function dir(path: string, mode = 0o755): DirEntry {
  return { kind: 'dir', path, mode };
}
