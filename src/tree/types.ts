import { closeSync, openSync, readFileSync, readSync } from 'node:fs';

/**
 * A file tree as the pipeline passes it between stages: the staged root that came out of the
 * build container, and the layer that relocation makes of it. File contents are referenced, not
 * held, so a large tree costs memory only for the files a stage actually changes.
 */

export type Content =
  /**
   * Bytes in a file on the host (the staged tree's content store). `sha256` is set only by the
   * content store, for bytes it wrote or verified in this process: what a digest may trust.
   */
  | { kind: 'file'; hostPath: string; sha256?: string }
  /** Bytes produced in memory (rewritten files, generated wrappers and metadata). */
  | { kind: 'bytes'; data: Buffer };

export interface FileEntry {
  kind: 'file';
  path: string;
  mode: number;
  size: number;
  content: Content;
  /** Package the file came from, when known. */
  pkg?: string;
}

export interface SymlinkEntry {
  kind: 'symlink';
  path: string;
  target: string;
  pkg?: string;
}

export interface DirEntry {
  kind: 'dir';
  path: string;
  mode: number;
  pkg?: string;
}

export type TreeEntry = FileEntry | SymlinkEntry | DirEntry;

/** Entries keyed by absolute, normalised path (`/usr/bin/pdftoppm`). */
export type FileTree = Map<string, TreeEntry>;

export function readContent(c: Content): Buffer {
  return c.kind === 'bytes' ? c.data : readFileSync(c.hostPath);
}

/**
 * The first `n` bytes (fewer when the content is shorter): enough to tell an ELF file or a script
 * from data without reading a file that may be gigabytes whole.
 */
export function readHead(c: Content, n: number): Buffer {
  return readAt(c, 0, n);
}

/**
 * Whether two contents hold the same bytes: by the digests the content store verified when both
 * have one, else compared a MiB at a time, never whole in memory.
 */
export function sameBytes(a: Content, b: Content): boolean {
  if (a.kind === 'file' && b.kind === 'file') {
    if (a.hostPath === b.hostPath) return true;
    if (a.sha256 && b.sha256) return a.sha256 === b.sha256;
  }
  if (a.kind === 'bytes' && b.kind === 'bytes') return a.data.equals(b.data);
  const chunk = 1024 * 1024;
  for (let at = 0; ; at += chunk) {
    const x = readAt(a, at, chunk);
    const y = readAt(b, at, chunk);
    if (!x.equals(y)) return false;
    if (x.length < chunk) return true;
  }
}

/** Whether the content holds `text` anywhere, read a MiB at a time. */
export function contains(c: Content, text: string): boolean {
  if (c.kind === 'bytes') return c.data.includes(text);
  const chunk = 1024 * 1024;
  const overlap = Buffer.byteLength(text) - 1;
  for (let at = 0; ; at += chunk - overlap) {
    const buf = readAt(c, at, chunk);
    if (buf.includes(text)) return true;
    if (buf.length < chunk) return false;
  }
}

function readAt(c: Content, at: number, n: number): Buffer {
  if (c.kind === 'bytes') return c.data.subarray(at, at + n);
  const buf = Buffer.alloc(n);
  const fd = openSync(c.hostPath, 'r');
  try {
    let got = 0;
    while (got < n) {
      const r = readSync(fd, buf, got, n - got, at + got);
      if (r === 0) break;
      got += r;
    }
    return buf.subarray(0, got);
  } finally {
    closeSync(fd);
  }
}

export function bytes(data: Buffer | string): Content {
  return { kind: 'bytes', data: typeof data === 'string' ? Buffer.from(data) : data };
}

/** Sorted by path: every output of the pipeline is ordered, so equal inputs give equal bytes. */
export function sortedEntries<T extends TreeEntry>(entries: Iterable<T>): T[] {
  return [...entries].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

/** Adds an entry and any directory above it the tree lacks (up to, not including, `root`). */
export function addWithParents(tree: FileTree, entry: TreeEntry, root = '/'): void {
  const parts = entry.path.split('/').filter(Boolean);
  let cur = '';
  for (const part of parts.slice(0, -1)) {
    cur += `/${part}`;
    if (cur.length > root.length && !tree.has(cur)) tree.set(cur, { kind: 'dir', path: cur, mode: 0o755 });
  }
  tree.set(entry.path, entry);
}
