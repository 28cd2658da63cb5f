import { createHash } from 'node:crypto';
import { constants as fsConstants, existsSync, promises as fs, statSync } from 'node:fs';
import path from 'node:path';
import { writeAtomically } from '../util/atomic.js';
import { readContent, type FileTree } from '../tree/types.js';
import { archiveEntries } from './layout.js';
import { writeZip, type ZipEntry } from './zip-writer.js';

/**
 * The identity of a layer's archive: names, kinds, modes, link targets and content hashes in
 * archive order. Equal digests mean byte-identical zips.
 */
export function layerDigest(layer: FileTree): string {
  const h = createHash('sha256');
  h.update(`yumda-zip-v2 level6\n`);
  for (const { name, entry } of archiveEntries(layer)) {
    if (entry.kind === 'dir') h.update(`d ${name} ${entry.mode}\n`);
    else if (entry.kind === 'symlink') h.update(`l ${name} ${entry.target}\n`);
    else {
      const content = entry.content.kind === 'file' && /^[0-9a-f]{64}$/.test(path.basename(entry.content.hostPath)) ? path.basename(entry.content.hostPath) : createHash('sha256').update(readContent(entry.content)).digest('hex');
      h.update(`f ${name} ${entry.mode} ${entry.size} ${content}\n`);
    }
  }
  return h.digest('hex');
}

/**
 * Writes the zip, or copies the one a previous build wrote for the same layer digest from
 * `cacheDir` (a warm rebuild of an unchanged layer costs a file copy).
 */
export async function writeLayerZipCached(layer: FileTree, dest: string, cacheDir: string | undefined): Promise<{ bytes: number; reused: boolean }> {
  if (!cacheDir) return { ...(await writeLayerZip(layer, dest)), reused: false };
  const cached = path.join(cacheDir, `${layerDigest(layer)}.zip`);
  if (existsSync(cached)) {
    await writeAtomically(dest, (tmp) => fs.copyFile(cached, tmp, fsConstants.COPYFILE_FICLONE));
    return { bytes: statSync(dest).size, reused: true };
  }
  const r = await writeLayerZip(layer, dest);
  await fs.mkdir(cacheDir, { recursive: true });
  await writeAtomically(cached, (tmp) => fs.copyFile(dest, tmp, fsConstants.COPYFILE_FICLONE));
  return { ...r, reused: false };
}

/**
 * Writes a layer as a Lambda layer zip: entries sorted, fixed times, unix modes, symlinks stored as
 * symlinks (Lambda's unzip restores them), so the same layer always gives the same bytes.
 */
export async function writeLayerZip(layer: FileTree, dest: string): Promise<{ bytes: number }> {
  const entries: ZipEntry[] = archiveEntries(layer).map(({ name, entry }) =>
    entry.kind === 'dir'
      ? { kind: 'dir', name, mode: entry.mode }
      : entry.kind === 'symlink'
        ? { kind: 'symlink', name, target: entry.target }
        : { kind: 'file', name, mode: entry.mode, size: entry.size, content: entry.content },
  );
  return writeAtomically(dest, (tmp) => writeZip(tmp, entries));
}
