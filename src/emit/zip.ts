import { ZipArchive, type EntryData } from 'archiver';
import { createReadStream, createWriteStream } from 'node:fs';
import { Readable } from 'node:stream';
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
