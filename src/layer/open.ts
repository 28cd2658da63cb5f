import { closeSync, readSync, statSync } from 'node:fs';
import path from 'node:path';
import { MANIFEST_PATH, type LayerManifest } from '../format/layer-manifest.js';
import { ContentStore } from '../cache/content-store.js';
import type { FileTree } from '../tree/types.js';
import { UserError } from '../util/errors.js';
import { openInputFile } from '../util/input.js';
import { printable } from '../util/printable.js';
import { validateDocument } from '../util/schema.js';
import { withTempDir } from '../util/tempdir.js';
import { checkContained, type LayerEntry } from './entries.js';
import { readImageTarball, type ImageInfo } from './imagetar.js';
import { readZipLayer } from './zip.js';

export type ArchiveFormat = 'zip' | 'oci' | 'docker-archive';

export interface OpenedLayer {
  file: string;
  format: ArchiveFormat;
  /** Size of the archive file itself. */
  archiveBytes: number;
  /** Sorted by path. */
  entries: LayerEntry[];
  /** /opt/.yumda/manifest.json, when the layer has a valid one. */
  manifest?: LayerManifest;
  /** Size of the manifest file (it is counted in the total but not in itself). */
  manifestBytes: number;
  image?: ImageInfo;
}

/**
 * What a file is, from its first bytes. Only regular files are read (openInputFile): a zip is read
 * by seeking to its end, and opening a FIFO would block until a writer comes.
 */
export function sniffFormat(file: string): 'zip' | 'tar' {
  const { fd } = openInputFile(file, 'a layer zip or image tarball');
  const head = Buffer.alloc(512);
  let n: number;
  try {
    n = readSync(fd, head, 0, 512, 0);
  } finally {
    closeSync(fd);
  }
  if (n >= 4 && head.readUInt32LE(0) === 0x04034b50) return 'zip';
  if (n >= 4 && head.readUInt32LE(0) === 0x06054b50) return 'zip'; // an empty zip: only the end record
  if (n === 512 && head.subarray(257, 262).toString('latin1') === 'ustar') return 'tar';
  throw new UserError(`${file} is neither a zip nor an image tarball (it starts with ${JSON.stringify(head.subarray(0, Math.min(n, 8)).toString('latin1'))})`);
}

/**
 * The one check of a layer manifest read from an archive (inspect, diff, verify, image --layer
 * and publish all come through here): valid JSON of the shape yumda writes, or one line saying
 * what is wrong. A layer without a manifest is fine (made by another tool); a broken one is not.
 */
export function parseLayerManifest(file: string, data: Buffer): LayerManifest {
  const where = `${file}: ${MANIFEST_PATH}`;
  let doc: unknown;
  try {
    doc = JSON.parse(data.toString('utf8'));
  } catch (e) {
    throw new UserError(`${where} is not valid JSON (${(e as Error).message})`);
  }
  const version = (doc as { manifestVersion?: unknown } | null)?.manifestVersion;
  if (typeof version === 'number' && version > 1) {
    throw new UserError(`${where} has manifestVersion ${version}; this yumda reads version 1`, { hint: 'upgrade yumda' });
  }
  try {
    return validateDocument<LayerManifest>('layer-manifest', doc, where);
  } catch (e) {
    // field names in the message come from the document
    if (e instanceof UserError) throw new UserError(printable(e.message), { hint: 'the layer was changed after yumda wrote it, or was not written by yumda' });
    throw e;
  }
}

/**
 * Reads a layer zip or image tarball and checks that nothing in it reaches outside /opt. With a
 * store, file contents are written into it (by hash); the tree can then be had with `layerTree`.
 */
export async function openLayer(file: string, opts: { store?: ContentStore; limit?: { bytes: number; what: string } } = {}): Promise<OpenedLayer> {
  const kind = sniffFormat(file);
  const keep = (p: string) => p === MANIFEST_PATH;
  const read =
    kind === 'zip'
      ? { ...(await readZipLayer(file, { store: opts.store, keep, limit: opts.limit })), image: undefined }
      : await readImageTarball(file, { store: opts.store, keep, limit: opts.limit });
  const entries = read.entries.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  checkContained(entries, file);
  const manifestData = read.kept.get(MANIFEST_PATH);
  const manifest = manifestData ? parseLayerManifest(file, manifestData) : undefined;
  return {
    file,
    format: kind === 'zip' ? 'zip' : read.image!.format,
    archiveBytes: statSync(file).size,
    entries,
    ...(manifest ? { manifest } : {}),
    manifestBytes: manifestData?.length ?? 0,
    ...(read.image ? { image: read.image } : {}),
  };
}

/** The layer as the pipeline's FileTree, contents in the store it was opened with. */
export function layerTree(layer: OpenedLayer): FileTree {
  const tree: FileTree = new Map();
  for (const e of layer.entries) {
    switch (e.kind) {
      case 'dir':
        tree.set(e.path, { kind: 'dir', path: e.path, mode: e.mode });
        break;
      case 'symlink':
        tree.set(e.path, { kind: 'symlink', path: e.path, target: e.target ?? '' });
        break;
      case 'file':
        if (!e.hostPath) throw new Error(`layerTree: ${e.path} was read without a content store`);
        tree.set(e.path, { kind: 'file', path: e.path, mode: e.mode, size: e.size, content: { kind: 'file', hostPath: e.hostPath } });
        break;
    }
  }
  return tree;
}

/** Opens a layer with its contents in a temporary store, for `fn`. */
export async function withLayerContents<T>(
  file: string,
  fn: (layer: OpenedLayer, tree: FileTree) => Promise<T>,
  opts: { limit?: { bytes: number; what: string } } = {},
): Promise<T> {
  return withTempDir(async (dir) => {
    const layer = await openLayer(file, { store: new ContentStore(path.join(dir, 'content')), ...opts });
    return fn(layer, layerTree(layer));
  });
}
