import { createReadStream } from 'node:fs';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import tar from 'tar-stream';
import { readStream } from '../util/stream.js';
import type { TreeEntry } from './types.js';

/** One archive member: its name in the archive (no leading slash) and the tree entry it holds. */
export interface TarMember {
  name: string;
  entry: TreeEntry;
}

/**
 * Tree entries as a tar stream, in the order given, file contents streamed one at a time from
 * the content store. Owners are root and times `mtime`, so equal entries give equal bytes. A
 * content file that cannot be read (cleaned from the cache, a disk error) fails the stream: its
 * reader gets the error instead of waiting forever for bytes that will not come.
 */
export function treeTarStream(members: Iterable<TarMember>, mtime: Date): Readable {
  const pack = tar.pack();
  const common = { uid: 0, gid: 0, uname: '', gname: '', mtime };
  void (async () => {
    try {
      for (const { name, entry } of members) {
        if (entry.kind === 'dir') pack.entry({ ...common, name: `${name}/`, type: 'directory', mode: entry.mode });
        else if (entry.kind === 'symlink') pack.entry({ ...common, name, type: 'symlink', linkname: entry.target, mode: 0o777 });
        else if (entry.content.kind === 'bytes') pack.entry({ ...common, name, type: 'file', mode: entry.mode, size: entry.size }, entry.content.data);
        else {
          const sink = pack.entry({ ...common, name, type: 'file', mode: entry.mode, size: entry.size });
          await pipeline(createReadStream(entry.content.hostPath), sink);
        }
      }
      pack.finalize();
    } catch (e) {
      pack.destroy(e as Error);
    }
  })();
  return pack as unknown as Readable;
}

/** A tar archive of small generated files (container configuration), built in memory. */
export async function tarOf(files: Map<string, string | Buffer>, mode = 0o644): Promise<Buffer> {
  const pack = tar.pack();
  for (const [p, content] of [...files].sort(([a], [b]) => a.localeCompare(b))) {
    pack.entry({ name: p.replace(/^\/+/, ''), mode, mtime: new Date(0) }, typeof content === 'string' ? Buffer.from(content) : content);
  }
  pack.finalize();
  return readStream(pack);
}
