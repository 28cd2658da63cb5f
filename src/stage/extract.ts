import type { Readable } from 'node:stream';
import tar from 'tar-stream';
import { normalizeAbsolute } from '../util/paths.js';
import type { FileTree, TreeEntry } from '../tree/types.js';
import type { ContentStore } from './store.js';

export interface ExtractedArchive {
  /** Entries under `rootPrefix`, at their absolute paths. */
  tree: FileTree;
  /** Small text files under `metaPrefix` (package file lists, resolver output), by name. */
  meta: Map<string, string>;
}

async function collect(stream: AsyncIterable<unknown>): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

/**
 * Reads a tar stream (as the Docker archive API returns it) into a tree whose file contents go to
 * the content store. Entries that would climb out of the root (`..`) are refused.
 */
export async function extractTar(stream: Readable, opts: { rootPrefix: string; metaPrefix?: string; store: ContentStore }): Promise<ExtractedArchive> {
  const tree: FileTree = new Map();
  const meta = new Map<string, string>();
  const extract = tar.extract();
  const done = new Promise<void>((resolve, reject) => {
    extract.on('finish', resolve);
    extract.on('error', reject);
  });
  extract.on('entry', (header, body, next) => {
    const handle = async (): Promise<void> => {
      const name = header.name.replace(/^\.\//, '');
      if (opts.metaPrefix && name.startsWith(opts.metaPrefix)) {
        const data = await collect(body);
        if (header.type === 'file') meta.set(name.slice(opts.metaPrefix.length), data.toString('utf8'));
        return;
      }
      if (!name.startsWith(opts.rootPrefix) && name + '/' !== opts.rootPrefix) {
        body.resume();
        return;
      }
      const rel = name.slice(opts.rootPrefix.length);
      if (rel.split('/').includes('..')) throw new Error(`archive entry climbs out of its root: ${header.name}`);
      const p = normalizeAbsolute(rel);
      if (p === '/') {
        body.resume();
        return;
      }
      const mode = (header.mode ?? 0o644) & 0o7777;
      let entry: TreeEntry | undefined;
      switch (header.type) {
        case 'file':
        case 'contiguous-file': {
          const data = await collect(body);
          const { hostPath } = opts.store.put(data);
          entry = { kind: 'file', path: p, mode, size: data.length, content: { kind: 'file', hostPath } };
          break;
        }
        case 'link': {
          body.resume();
          const linked = tree.get(normalizeAbsolute((header.linkname ?? '').replace(/^\.\//, '').slice(opts.rootPrefix.length)));
          if (linked?.kind === 'file') entry = { ...linked, path: p };
          break;
        }
        case 'symlink':
          body.resume();
          entry = { kind: 'symlink', path: p, target: header.linkname ?? '' };
          break;
        case 'directory':
          body.resume();
          entry = { kind: 'dir', path: p, mode };
          break;
        default:
          body.resume(); // devices, fifos: nothing a layer can carry
      }
      if (entry) tree.set(p, entry);
    };
    handle().then(() => next(), (e) => { extract.destroy(e as Error); });
  });
  stream.pipe(extract);
  stream.on('error', (e) => extract.destroy(e));
  await done;
  return { tree, meta };
}
