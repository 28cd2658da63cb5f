import type { PackedManifest } from './layer-manifest.js';
import { formatBytes } from '../util/format.js';
import { EPHEMERAL_STORAGE_DEFAULT_MB, LAMBDA_UNZIPPED_LIMIT } from './lambda.js';

/**
 * The ephemeral storage to configure for a packed layer: what its tree takes in /tmp, plus room
 * for the function's own files (256 MB), in steps of 512 MB and never below Lambda's default.
 */
export function ephemeralStorageMb(tmpMb: number): number {
  return Math.max(EPHEMERAL_STORAGE_DEFAULT_MB, Math.ceil((tmpMb + 256) / 512) * 512);
}

/** The report lines of a packed layer, as `install` and `inspect` print them. */
export function packedLines(p: PackedManifest, measured?: { unpackMs: number }): string[] {
  const storage = ephemeralStorageMb(p.tmpMb);
  const lines = [
    `packed: ${formatBytes(p.packedBytes)} archive (zstd -${p.compression.level}) of a ${formatBytes(p.treeBytes)} tree; unpacked it takes ${p.tmpMb} MB of /tmp: set the function's ephemeral storage to at least ${storage} MB`,
    `the first call in an execution environment unpacks it into ${p.unpackDir}` +
      (measured ? ` (${(measured.unpackMs / 1000).toFixed(1)} s measured on this machine, in the build container)` : '') +
      `; later calls exec directly. Launchers in /opt/bin: ${p.programs.slice(0, 8).join(', ')}${p.programs.length > 8 ? `, … (${p.programs.length})` : ''}`,
  ];
  const note = packNotNeeded(p);
  if (note) lines.push(note);
  return lines;
}

/**
 * A note for a packed tree far below Lambda's unzipped limit (under half of it): packing costs an
 * unpack on every cold start and /tmp to hold it, and such a tree fits without it.
 */
export function packNotNeeded(p: Pick<PackedManifest, 'treeBytes'>): string | undefined {
  if (p.treeBytes >= LAMBDA_UNZIPPED_LIMIT / 2) return undefined;
  const pct = ((p.treeBytes / LAMBDA_UNZIPPED_LIMIT) * 100).toFixed(1);
  return `note: packing is not needed: the tree is ${formatBytes(p.treeBytes)} (${pct}% of Lambda's 250 MB limit) and fits unpacked, with no unpack on the first call and no /tmp to size`;
}
