import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import tar from 'tar-stream';
import { LAYER_ROOT } from '../relocate/layout.js';
import { UserError } from '../util/errors.js';
import { layerPathOf, type LayerEntry } from './entries.js';
import type { ArchiveContents, ReadOptions } from './zip.js';

/** Members of an image tarball small enough to be metadata (index, manifests, configs). */
const SMALL = 4 * 1024 * 1024;

export interface ImageInfo {
  format: 'oci' | 'docker-archive';
  /** The image config (architecture, labels, rootfs). */
  config: { architecture?: string; os?: string; config?: { Labels?: Record<string, string> }; rootfs?: { diff_ids?: string[] } };
  repoTags: string[];
  /** Layer blobs as stored (compressed or not). */
  layers: Array<{ member: string; bytes: number }>;
}

async function readAll(stream: AsyncIterable<unknown>): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

/** Calls `onEntry` for each member of a tar stream, in order; the body must be consumed. */
async function eachMember(stream: Readable, onEntry: (header: tar.Header, body: Readable) => Promise<void>): Promise<void> {
  const extract = tar.extract();
  stream.on('error', (e) => extract.destroy(e));
  stream.pipe(extract);
  for await (const entry of extract) {
    await onEntry(entry.header, entry as unknown as Readable);
    entry.resume();
  }
}

function memberName(name: string): string {
  return name.replace(/^\.\//, '').replace(/^\/+/, '');
}

function parseJson<T>(file: string, member: string, data: Buffer | undefined): T {
  if (!data) throw new UserError(`${file}: image tarball has no ${member}`);
  try {
    return JSON.parse(data.toString('utf8')) as T;
  } catch (e) {
    throw new UserError(`${file}: ${member} in the image tarball is not valid JSON (${(e as Error).message})`);
  }
}

const blobMember = (digest: string) => `blobs/${digest.replace(':', '/')}`;

/** Finds the image's config and layer members through manifest.json (docker-archive) or index.json (OCI). */
function locateImage(file: string, small: Map<string, Buffer>, sizes: Map<string, number>): ImageInfo {
  if (small.has('manifest.json')) {
    const m = parseJson<Array<{ Config: string; RepoTags?: string[] | null; Layers: string[] }>>(file, 'manifest.json', small.get('manifest.json'));
    if (!Array.isArray(m) || m.length !== 1) throw new UserError(`${file}: the image tarball holds ${Array.isArray(m) ? m.length : 'no'} images; inspect one at a time`);
    const img = m[0]!;
    return {
      format: small.has('index.json') ? 'oci' : 'docker-archive',
      config: parseJson(file, img.Config, small.get(img.Config)),
      repoTags: img.RepoTags ?? [],
      layers: img.Layers.map((l) => ({ member: l, bytes: sizes.get(l) ?? 0 })),
    };
  }
  if (small.has('index.json')) {
    const index = parseJson<{ manifests?: Array<{ digest: string; annotations?: Record<string, string> }> }>(file, 'index.json', small.get('index.json'));
    const desc = index.manifests ?? [];
    if (desc.length !== 1) throw new UserError(`${file}: the OCI index lists ${desc.length} manifests; inspect one image at a time`);
    const manifest = parseJson<{ config: { digest: string }; layers: Array<{ digest: string }> }>(file, blobMember(desc[0]!.digest), small.get(blobMember(desc[0]!.digest)));
    const ref = desc[0]!.annotations?.['org.opencontainers.image.ref.name'];
    return {
      format: 'oci',
      config: parseJson(file, blobMember(manifest.config.digest), small.get(blobMember(manifest.config.digest))),
      repoTags: ref ? [ref] : [],
      layers: manifest.layers.map((l) => ({ member: blobMember(l.digest), bytes: sizes.get(blobMember(l.digest)) ?? 0 })),
    };
  }
  throw new UserError(`${file} is a tar archive but not an image tarball (no manifest.json or index.json)`);
}

/** The layer path a member of an image layer takes: it must lie under opt/. */
function imageLayerPath(file: string, name: string): string | undefined {
  if (name.startsWith('/')) throw new UserError(`${file}: image layer entry '${name}' is an absolute path (refusing to read it)`);
  const parts = name.split('/').filter((p) => p !== '' && p !== '.');
  if (parts.length === 0) return undefined;
  if (parts[0] !== LAYER_ROOT.slice(1)) {
    throw new UserError(`${file}: image layer entry '${name}' lies outside ${LAYER_ROOT}; yumda images hold only ${LAYER_ROOT}`);
  }
  if (parts.some((p) => p.startsWith('.wh.'))) throw new UserError(`${file}: image layer entry '${name}' is a whiteout; layers that delete files are not supported`);
  return layerPathOf(parts.slice(1).join('/'), file);
}

/**
 * Reads an image tarball (OCI image layout or `docker save` archive) holding a /opt layer: the
 * metadata first, then each layer's entries in order, checked like a zip's.
 */
export async function readImageTarball(file: string, opts: ReadOptions = {}): Promise<ArchiveContents & { image: ImageInfo }> {
  const small = new Map<string, Buffer>();
  const sizes = new Map<string, number>();
  try {
    await eachMember(createReadStream(file), async (h, body) => {
      const name = memberName(h.name);
      sizes.set(name, h.size ?? 0);
      if (h.type === 'file' && (h.size ?? 0) <= SMALL) small.set(name, await readAll(body));
    });
  } catch (e) {
    if (e instanceof UserError) throw e;
    throw new UserError(`${file} is not a readable image tarball: ${(e as Error).message}`);
  }
  const image = locateImage(file, small, sizes);
  const wanted = new Set(image.layers.map((l) => l.member));
  for (const l of image.layers) if (!sizes.has(l.member)) throw new UserError(`${file}: the image's layer ${l.member} is missing from the tarball`);

  const byPath = new Map<string, LayerEntry>();
  const kept = new Map<string, Buffer>();
  const readLayer = async (blob: Readable): Promise<void> => {
    const head = await peek(blob, 2);
    const plain = head.bytes[0] === 0x1f && head.bytes[1] === 0x8b ? head.stream.pipe(createGunzip()) : head.stream;
    await eachMember(plain, async (h, body) => {
      const p = imageLayerPath(file, memberName(h.name));
      if (!p || p === LAYER_ROOT) return;
      const mode = (h.mode ?? 0o644) & 0o7777;
      switch (h.type) {
        case 'directory':
          byPath.set(p, { path: p, kind: 'dir', mode, size: 0 });
          return;
        case 'symlink':
          byPath.set(p, { path: p, kind: 'symlink', mode: 0o777, size: 0, target: h.linkname ?? '' });
          return;
        case 'link': {
          const src = byPath.get(imageLayerPath(file, memberName(h.linkname ?? '')) ?? '');
          if (src?.kind !== 'file') throw new UserError(`${file}: hard link '${h.name}' names '${h.linkname}', which is not an earlier file`);
          byPath.set(p, { ...src, path: p });
          return;
        }
        case 'file':
        case 'contiguous-file': {
          const data = await readAll(body);
          const entry: LayerEntry = { path: p, kind: 'file', mode, size: data.length };
          if (opts.store) Object.assign(entry, (({ hash, hostPath }) => ({ sha256: hash, hostPath }))(opts.store.put(data)));
          else entry.sha256 = createHash('sha256').update(data).digest('hex');
          if (opts.keep?.(p)) kept.set(p, data);
          byPath.set(p, entry);
          return;
        }
        default:
          throw new UserError(`${file}: image layer entry '${h.name}' is a ${h.type}; a layer holds files, directories and symlinks`);
      }
    });
  };
  try {
    await eachMember(createReadStream(file), async (h, body) => {
      if (wanted.has(memberName(h.name))) await readLayer(body);
    });
  } catch (e) {
    if (e instanceof UserError) throw e;
    throw new UserError(`${file}: an image layer cannot be read: ${(e as Error).message}`);
  }
  return { entries: [...byPath.values()], kept, image };
}

/** The first `n` bytes of a stream, and a stream that still yields all of it. */
async function peek(stream: Readable, n: number): Promise<{ bytes: Buffer; stream: Readable }> {
  const it = stream[Symbol.asyncIterator]();
  const chunks: Buffer[] = [];
  let have = 0;
  while (have < n) {
    const r = await it.next();
    if (r.done) break;
    chunks.push(r.value as Buffer);
    have += (r.value as Buffer).length;
  }
  const rest = Readable.from(
    (async function* () {
      yield* chunks;
      for (;;) {
        const r = await it.next();
        if (r.done) return;
        yield r.value as Buffer;
      }
    })(),
    { objectMode: false },
  );
  return { bytes: Buffer.concat(chunks).subarray(0, n), stream: rest };
}
