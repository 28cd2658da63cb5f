import { createReadStream } from 'node:fs';
import type { Readable } from 'node:stream';
import tar from 'tar-stream';
import { sortedEntries, type FileTree } from '../tree/types.js';

/** A tar archive of small generated files (container configuration), built in memory. */
export async function tarOf(files: Map<string, string | Buffer>, mode = 0o644): Promise<Buffer> {
  const pack = tar.pack();
  for (const [p, content] of [...files].sort(([a], [b]) => a.localeCompare(b))) {
    pack.entry({ name: p.replace(/^\/+/, ''), mode, mtime: new Date(0) }, typeof content === 'string' ? Buffer.from(content) : content);
  }
  pack.finalize();
  const chunks: Buffer[] = [];
  for await (const c of pack) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

/**
 * A staged tree as a tar stream (to put it into a container), files streamed from the content
 * store one at a time.
 */
export function tarOfTree(tree: FileTree): Readable {
  const pack = tar.pack();
  const entries = sortedEntries(tree.values());
  (async () => {
    for (const e of entries) {
      const name = e.path.replace(/^\/+/, '');
      if (e.kind === 'dir') pack.entry({ name, type: 'directory', mode: e.mode, mtime: new Date(0) });
      else if (e.kind === 'symlink') pack.entry({ name, type: 'symlink', linkname: e.target, mtime: new Date(0) });
      else {
        await new Promise<void>((resolve, reject) => {
          const w = pack.entry({ name, size: e.size, mode: e.mode, mtime: new Date(0) }, (err) => (err ? reject(err) : resolve()));
          if (e.content.kind === 'bytes') w.end(e.content.data);
          else createReadStream(e.content.hostPath).pipe(w);
        });
      }
    }
    pack.finalize();
  })().catch((err) => pack.destroy(err as Error));
  return pack as unknown as Readable;
}
