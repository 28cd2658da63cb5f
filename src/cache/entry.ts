import { lstatSync, readlinkSync, rmSync, type Stats } from 'node:fs';

/**
 * A file in the cache, as it is on disk, never through a symlink: the one check every store makes
 * before it uses an entry. Anything but a regular file (a directory, a symlink, a FIFO, which
 * would block a read) is damage, however it got there, and is said as such.
 */
export type EntryState = { missing: true } | { damaged: string } | { size: number };

function kind(st: Stats, p: string): string {
  if (st.isDirectory()) return 'a directory';
  if (st.isSymbolicLink()) {
    let to = '';
    try {
      to = ` to ${readlinkSync(p)}`;
    } catch {
      to = '';
    }
    return `a symlink${to}`;
  }
  if (st.isFIFO()) return 'a FIFO';
  if (st.isSocket()) return 'a socket';
  return 'a device';
}

export function entryState(p: string): EntryState {
  let st: Stats;
  try {
    st = lstatSync(p);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    return code === 'ENOENT' || code === 'ENOTDIR' ? { missing: true } : { damaged: `cannot be read (${code ?? e})` };
  }
  if (!st.isFile()) return { damaged: `${kind(st, p)}, not a file` };
  return { size: st.size };
}

/**
 * Removes a damaged entry whatever it is (a directory with all it holds, a symlink itself, not
 * what it points at), so the store can write it anew; one that cannot be removed stays, and the
 * next write reports why.
 */
export function removeEntry(p: string): void {
  try {
    rmSync(p, { recursive: true, force: true });
  } catch {
    // left for the write that follows to fail on, in one line
  }
}

/** A read error said as the reason an entry is damaged. */
export function unreadable(e: unknown): string {
  return `cannot be read (${(e as NodeJS.ErrnoException).code ?? e})`;
}
