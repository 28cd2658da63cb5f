import path from 'node:path';
import { UserError } from '../util/errors.js';
import { printable } from '../util/printable.js';
import { READ_LIMITS } from './limits.js';
import { LAYER_ROOT } from '../format/lambda.js';
import { resolvePath, type ResolveOptions } from '../tree/resolve.js';

/**
 * A layer as it comes out of an archive someone hands us (a zip, an image tarball): entries at
 * their absolute /opt paths with what inspect, diff and verify need. Contents are identified by
 * SHA-256 and, when the caller asked for them, stored on disk under a temporary directory by that
 * hash (never under a name taken from the archive).
 */
export interface LayerEntry {
  /** Absolute path under /opt (`/opt/bin/pdftoppm`). */
  path: string;
  kind: 'file' | 'dir' | 'symlink';
  /** Permission bits (0o7777). */
  mode: number;
  /** File bytes; 0 for directories and symlinks. */
  size: number;
  /** Symlink target, as stored. */
  target?: string;
  /** SHA-256 of a file's content. */
  sha256?: string;
  /** Where the content was stored, when the reader was given a store. */
  hostPath?: string;
}

/**
 * Turns an archive member name into the absolute path it would take under /opt, or refuses it.
 * `what` names the archive in the message. Backslashes were already turned into slashes by the
 * zip reader; `.` components and repeated slashes are harmless and removed.
 */
export function layerPathOf(name: string, what: string): string {
  const shown = printable(name);
  if (name.startsWith('/') || /^[A-Za-z]:/.test(name)) {
    throw new UserError(`${what}: entry '${shown}' is an absolute path; layer entries are relative to ${LAYER_ROOT} (refusing to read it)`);
  }
  const parts = name.split('/').filter((p) => p !== '' && p !== '.');
  if (parts.includes('..')) {
    throw new UserError(`${what}: entry '${shown}' climbs out of the layer with '..' (refusing to read it)`);
  }
  if (parts.some((p) => p.includes('\0'))) throw new UserError(`${what}: entry '${shown}' has a NUL byte in its name`);
  // names Linux cannot create: unpacking fails half-way (Docker answers HTTP 500), so refuse them here
  const long = parts.find((p) => Buffer.byteLength(p) > READ_LIMITS.nameComponentBytes);
  if (long !== undefined) {
    throw new UserError(
      `${what}: entry '${cut(shown)}' has a name component of ${Buffer.byteLength(long)} bytes; Linux allows ${READ_LIMITS.nameComponentBytes} (refusing to read it)`,
    );
  }
  const full = parts.length ? `${LAYER_ROOT}/${parts.join('/')}` : LAYER_ROOT;
  if (Buffer.byteLength(full) > READ_LIMITS.pathBytes) {
    throw new UserError(
      `${what}: entry '${cut(shown)}' is a path of ${Buffer.byteLength(full)} bytes, ${parts.length} levels deep; Linux allows ${READ_LIMITS.pathBytes} bytes (refusing to read it)`,
    );
  }
  return full;
}

/** A long name, shortened for a one-line message. */
function cut(s: string): string {
  return s.length > 80 ? `${s.slice(0, 40)}…${s.slice(-30)}` : s;
}

/**
 * How an archive's links are resolved: confined to /opt, strictly (a relative link that climbs
 * above /opt and comes back in, `../opt/lib`, only works where the layer sits exactly at /opt,
 * and escapes any other directory it is unpacked into), and over a partial tree: the function's
 * other layers share /opt, so a path this one lacks may be a directory there.
 */
const IN_A_LAYER: ResolveOptions = { confineTo: LAYER_ROOT, treeIs: 'partial' };

/**
 * Refuses a layer that could write or point outside /opt when unpacked: duplicate entries,
 * symlinks whose target leaves /opt, and an entry below a symlink or a file (unpacking it would
 * follow the link). Entry names were checked when read (layerPathOf).
 */
export function checkContained(entries: readonly LayerEntry[], what: string): void {
  const byPath = new Map<string, LayerEntry>();
  for (const e of entries) {
    if (byPath.has(e.path)) throw new UserError(`${what}: entry '${printable(rel(e.path))}' appears twice`);
    byPath.set(e.path, e);
  }
  for (const e of entries) {
    if (e.kind !== 'symlink') continue;
    const r = resolvePath(byPath, e.path, IN_A_LAYER);
    if (r.kind === 'escapes') {
      const t = e.target ?? '';
      const via = r.through?.target ?? t;
      throw new UserError(
        `${what}: symlink '${printable(rel(e.path))}' -> '${printable(t)}' points outside ${LAYER_ROOT}${via !== t ? ` (through '${printable(via)}')` : ''} (refusing to read it)`,
      );
    }
  }
  for (const e of entries) {
    for (let d = path.posix.dirname(e.path); d.length > LAYER_ROOT.length; d = path.posix.dirname(d)) {
      const parent = byPath.get(d);
      if (parent?.kind === 'symlink') {
        throw new UserError(
          `${what}: entry '${printable(rel(e.path))}' lies under the symlink '${printable(rel(d))}' -> '${printable(parent.target ?? '')}'; unpacking it would write through the link (refusing to read it)`,
        );
      }
      if (parent?.kind === 'file') throw new UserError(`${what}: entry '${printable(rel(e.path))}' lies under '${printable(rel(d))}', which is a file`);
    }
  }
}

/** A path as the archive names it (relative to /opt), for messages. */
export function rel(p: string): string {
  return p === LAYER_ROOT ? '.' : p.slice(LAYER_ROOT.length + 1);
}

/** The symlinks that lead to nothing the layer holds (or loop, or out of /opt): what inspect marks dangling. */
export function danglingSymlinks(entries: readonly LayerEntry[]): LayerEntry[] {
  const byPath = new Map(entries.map((e) => [e.path, e]));
  return entries.filter((e) => {
    if (e.kind !== 'symlink') return false;
    const r = resolvePath(byPath, e.path, IN_A_LAYER);
    return r.kind !== 'found' || r.entry === undefined;
  });
}
