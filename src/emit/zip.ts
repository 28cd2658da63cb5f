import { ZipArchive, type EntryData } from 'archiver';
import { createWriteStream } from 'node:fs';
import { writeAtomically } from '../util/atomic.js';
import type { FileTree } from '../tree/types.js';
import { archiveEntries, FIXED_DATE } from './layout.js';

/**
 * Writes a layer as a Lambda layer zip: entries sorted, fixed times, unix modes, symlinks stored as
 * symlinks (Lambda's unzip restores them), so the same layer always gives the same bytes.
 */
export async function writeLayerZip(layer: FileTree, dest: string): Promise<{ bytes: number }> {
  return writeAtomically(dest, async (tmp) => {
    const out = createWriteStream(tmp);
    const zip = new ZipArchive({ zlib: { level: 9 } });
    const closed = new Promise<void>((resolve, reject) => {
      out.on('close', resolve);
      out.on('error', reject);
      zip.on('error', reject);
      zip.on('warning', reject);
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
          if (entry.content.kind === 'file') zip.file(entry.content.hostPath, { name, mode: entry.mode, date: FIXED_DATE });
          else zip.append(entry.content.data, { name, mode: entry.mode, date: FIXED_DATE });
          break;
      }
    }
    await zip.finalize();
    await closed;
    return { bytes: zip.pointer() };
  });
}
