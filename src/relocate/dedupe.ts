import { createHash } from 'node:crypto';
import path from 'node:path';
import type { Content, FileEntry, FileTree } from '../tree/types.js';
import { relativeLink } from '../tree/links.js';

export interface DedupeReport {
  /** Files shipped as a link to an identical copy: where each went, and the copy it now names. */
  linked: Array<{ path: string; to: string }>;
  /** Bytes Lambda no longer counts against its unzipped limit. */
  savedBytes: number;
}

/** Equal keys mean equal bytes: the content store names files by their SHA-256. */
function contentKey(c: Content): string {
  return c.kind === 'file' ? `f:${c.hostPath}` : `b:${createHash('sha256').update(c.data).digest('hex')}`;
}

/**
 * Ships each content once. Packages carry hard links (mesa's DRI drivers: one file under a dozen
 * names), which a zip cannot hold and staging turned into copies, and identical files under
 * several names; every further copy becomes a relative symlink to the first (in path order).
 * Executables are linked only within one directory: a program that finds its resources next to
 * /proc/self/exe, which a symlink resolves, keeps finding them. Modes must agree, so no file
 * gains or loses a permission.
 */
export function dedupeFiles(layer: FileTree): DedupeReport {
  const first = new Map<string, FileEntry>();
  const report: DedupeReport = { linked: [], savedBytes: 0 };
  const files = [...layer.values()].filter((e): e is FileEntry => e.kind === 'file' && e.size > 0).sort((a, b) => (a.path < b.path ? -1 : 1));
  for (const e of files) {
    const executable = (e.mode & 0o111) !== 0;
    const key = `${contentKey(e.content)} ${e.mode} ${executable ? path.posix.dirname(e.path) : ''}`;
    const kept = first.get(key);
    if (!kept) {
      first.set(key, e);
      continue;
    }
    layer.set(e.path, { kind: 'symlink', path: e.path, target: relativeLink(e.path, kept.path), ...(e.pkg ? { pkg: e.pkg } : {}) });
    report.linked.push({ path: e.path, to: kept.path });
    report.savedBytes += e.size;
  }
  return report;
}
