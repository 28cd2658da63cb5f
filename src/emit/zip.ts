import { ZipArchive, type EntryData } from 'archiver';
import { createHash } from 'node:crypto';
import { constants as fsConstants, createReadStream, createWriteStream, existsSync, promises as fs, statSync } from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import { writeAtomically } from '../util/atomic.js';
import { readContent, type FileTree } from '../tree/types.js';
import { archiveEntries, FIXED_DATE } from './layout.js';

/**
 * The identity of a layer's archive: names, kinds, modes, link targets and content hashes in
 * archive order. Equal digests mean byte-identical zips.
 */
export function layerDigest(layer: FileTree): string {
  const h = createHash('sha256');
  h.update(`yumda-zip-v1 level6\n`);
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
  return writeAtomically(dest, async (tmp) => {
    const out = createWriteStream(tmp);
    // zlib's default level: a third of level 9's time for 0.2% more bytes on a typical layer
    const zip = new ZipArchive({ zlib: { level: 6 } });
    let fail: (e: Error) => void = () => undefined;
    const closed = new Promise<void>((resolve, reject) => {
      fail = (e) => {
        zip.abort();
        out.destroy();
        reject(e);
      };
      out.on('close', resolve);
      out.on('error', fail);
      zip.on('error', fail);
      zip.on('warning', fail);
    });
    zip.pipe(out);
    for (const { name, entry } of archiveEntries(layer)) {
      switch (entry.kind) {
        case 'dir':
          zip.append(Buffer.alloc(0), { name: `${name}/`, type: 'directory', mode: entry.mode, date: FIXED_DATE });
          break;
        case 'symlink':
          // archiver's symlink() stamps the current time; append() takes ours
          zip.append(Buffer.alloc(0), { name, type: 'symlink', linkname: entry.target, mode: 0o777, date: FIXED_DATE } as EntryData);
          break;
        case 'file':
          zip.append(entry.content.kind === 'file' ? lazyFileStream(entry.content.hostPath, fail) : entry.content.data, { name, mode: entry.mode, date: FIXED_DATE });
          break;
      }
    }
    await Promise.all([zip.finalize(), closed]);
    return { bytes: zip.pointer() };
  });
}

/**
 * A stream that opens its file only when first read. archiver's own file() stats files
 * concurrently and queues them in completion order, which would make the entry order (and so the
 * bytes) vary; appending streams keeps our order, and opening lazily keeps one descriptor open.
 */
function lazyFileStream(hostPath: string, onError: (e: Error) => void): Readable {
  const stream = Readable.from(
    (async function* () {
      yield* createReadStream(hostPath);
    })(),
    { objectMode: false },
  );
  stream.on('error', onError);
  return stream;
}
