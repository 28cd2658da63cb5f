import path from 'node:path';
import { sortedEntries, type FileTree, type TreeEntry } from '../tree/types.js';
import { LAYER_ROOT } from '../format/lambda.js';

/** Fixed entry time of archives (zip, image layers): same input, same bytes. 1980-01-01 is the earliest a zip can record. */
export const FIXED_DATE = new Date(Date.UTC(1980, 0, 1, 0, 0, 0));

export interface LayoutEntry {
  /** Path inside the zip / image, relative to /opt (Lambda unpacks a layer there). */
  name: string;
  entry: TreeEntry;
}

/** The layer's entries in archive order: sorted by path, /opt stripped, directories first-class. */
export function archiveEntries(layer: FileTree): LayoutEntry[] {
  const out: LayoutEntry[] = [];
  for (const e of sortedEntries(layer.values())) {
    if (e.path === LAYER_ROOT) continue;
    if (!e.path.startsWith(LAYER_ROOT + '/')) throw new Error(`layer entry outside ${LAYER_ROOT}: ${e.path}`);
    const name = e.path.slice(LAYER_ROOT.length + 1);
    // every writer (zip, directory, image) follows these names: none may climb out or pass through a link
    if (name.split('/').some((c) => c === '' || c === '.' || c === '..')) throw new Error(`layer entry with an empty, . or .. component: ${e.path}`);
    for (let d = path.posix.dirname(e.path); d !== LAYER_ROOT && d !== '/'; d = path.posix.dirname(d)) {
      if (layer.get(d)?.kind === 'symlink') throw new Error(`layer entry ${e.path} lies under the symlink ${d}`);
    }
    out.push({ name, entry: e });
  }
  return out;
}

/** What Lambda counts against its unzipped limit: the bytes of the files. */
export function unzippedSize(layer: FileTree): number {
  let n = 0;
  for (const e of layer.values()) if (e.kind === 'file') n += e.size;
  return n;
}
