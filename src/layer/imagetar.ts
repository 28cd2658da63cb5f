import { createReadStream } from 'node:fs';
import { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import tar from 'tar-stream';
import { UserError } from '../util/errors.js';
import { printable } from '../util/printable.js';
import { readStream } from '../util/stream.js';
import { layerPathOf, type LayerEntry } from './entries.js';
import { READ_LIMITS, UnpackBudget } from './limits.js';
import { sinkFile } from './sink.js';
import type { ArchiveContents, ReadOptions } from './zip.js';
import { LAYER_ROOT } from '../format/lambda.js';

export interface ImageInfo {
  format: 'oci' | 'docker-archive';
  /** The image config (architecture, labels, rootfs). */
  config: { architecture?: string; os?: string; config?: { Labels?: Record<string, string> }; rootfs?: { diff_ids?: string[] } };
  repoTags: string[];
  /** Layer blobs as stored (compressed or not). */
  layers: Array<{ member: string; bytes: number }>;
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

/**
 * Reads the named metadata members of the tarball (each at most READ_LIMITS.metadataBytes, so a
 * hostile tarball cannot make us hold its layers in memory) and notes every member's size.
 */
async function readMembers(file: string, names: ReadonlySet<string>): Promise<{ data: Map<string, Buffer>; sizes: Map<string, number> }> {
  const data = new Map<string, Buffer>();
  const sizes = new Map<string, number>();
  try {
    await eachMember(createReadStream(file), async (h, body) => {
      const name = memberName(h.name);
      sizes.set(name, h.size ?? 0);
      if (sizes.size > READ_LIMITS.entries) throw new UserError(`${file}: more than ${READ_LIMITS.entries} members; an image tarball holds a few (refusing to read further)`);
      if (h.type !== 'file' || !names.has(name)) return;
      if ((h.size ?? 0) > READ_LIMITS.metadataBytes)
        throw new UserError(`${file}: ${printable(name)} in the image tarball is ${h.size} bytes; image metadata is far smaller (refusing to read it)`);
      data.set(name, await readStream(body, { limit: READ_LIMITS.metadataBytes, what: `${file}: ${printable(name)}` }));
    });
  } catch (e) {
    if (e instanceof UserError) throw e;
    throw new UserError(`${file} is not a readable image tarball: ${(e as Error).message}`);
  }
  return { data, sizes };
}

function parseJson(file: string, member: string, data: Buffer | undefined): unknown {
  if (!data) throw new UserError(`${file}: image tarball has no ${printable(member)}`);
  try {
    return JSON.parse(data.toString('utf8'));
  } catch (e) {
    throw new UserError(`${file}: ${printable(member)} in the image tarball is not valid JSON (${(e as Error).message})`);
  }
}

/** Refuses metadata of the wrong shape in one line, before anything reads a field of it. */
function malformed(file: string, member: string, what: string): UserError {
  return new UserError(`${file}: ${printable(member)} in the image tarball is malformed: ${what}`, { hint: 'write it again with `docker save`, skopeo or `yumda image`' });
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isStrings = (v: unknown): v is string[] => Array.isArray(v) && v.every((x) => typeof x === 'string');
const DIGEST = /^[a-z0-9]+(?:[+._-][a-z0-9]+)*:[a-zA-Z0-9=_-]{32,}$/;

function digestOf(file: string, member: string, v: unknown, field: string): string {
  const d = isObject(v) ? v.digest : undefined;
  if (typeof d !== 'string' || !DIGEST.test(d)) throw malformed(file, member, `${field} has no valid digest`);
  return d;
}

function checkConfig(file: string, member: string, v: unknown): ImageInfo['config'] {
  if (!isObject(v)) throw malformed(file, member, 'the image config is not an object');
  for (const k of ['architecture', 'os'] as const) if (v[k] !== undefined && typeof v[k] !== 'string') throw malformed(file, member, `${k} is not a string`);
  if (v.config !== undefined && v.config !== null) {
    if (!isObject(v.config)) throw malformed(file, member, 'config is not an object');
    const labels = v.config.Labels;
    if (labels !== undefined && labels !== null && !(isObject(labels) && Object.values(labels).every((x) => typeof x === 'string')))
      throw malformed(file, member, 'config.Labels is not a map of strings');
  }
  if (v.rootfs !== undefined && !(isObject(v.rootfs) && (v.rootfs.diff_ids === undefined || isStrings(v.rootfs.diff_ids))))
    throw malformed(file, member, 'rootfs.diff_ids is not a list of strings');
  return v as ImageInfo['config'];
}

const blobMember = (digest: string) => `blobs/${digest.replace(':', '/')}`;

/**
 * Finds the image's config and layer members through manifest.json (docker-archive) or
 * index.json (OCI), checking the shape of each document before using it; `more` reads members.
 */
async function locateImage(file: string, top: Map<string, Buffer>, sizes: Map<string, number>, more: (names: string[]) => Promise<Map<string, Buffer>>): Promise<ImageInfo> {
  const size = (m: string) => sizes.get(m) ?? 0;
  if (top.has('manifest.json')) {
    const m = parseJson(file, 'manifest.json', top.get('manifest.json'));
    if (!Array.isArray(m)) throw malformed(file, 'manifest.json', 'not a list of images');
    if (m.length !== 1) throw new UserError(`${file}: the image tarball holds ${m.length} images; inspect one at a time`);
    const img: unknown = m[0];
    if (!isObject(img)) throw malformed(file, 'manifest.json', 'the image is not an object');
    if (typeof img.Config !== 'string') throw malformed(file, 'manifest.json', 'Config is not a file name');
    if (!isStrings(img.Layers)) throw malformed(file, 'manifest.json', 'Layers is not a list of file names');
    if (img.RepoTags !== undefined && img.RepoTags !== null && !isStrings(img.RepoTags)) throw malformed(file, 'manifest.json', 'RepoTags is not a list of strings');
    const config = img.Config;
    return {
      format: top.has('index.json') ? 'oci' : 'docker-archive',
      config: checkConfig(file, config, parseJson(file, config, (await more([config])).get(config))),
      repoTags: (img.RepoTags as string[] | null | undefined) ?? [],
      layers: img.Layers.map((l) => ({ member: l, bytes: size(l) })),
    };
  }
  if (top.has('index.json')) {
    const index = parseJson(file, 'index.json', top.get('index.json'));
    if (!isObject(index) || !Array.isArray(index.manifests)) throw malformed(file, 'index.json', 'no list of manifests');
    if (index.manifests.length !== 1) throw new UserError(`${file}: the OCI index lists ${index.manifests.length} manifests; inspect one image at a time`);
    const desc: unknown = index.manifests[0];
    const manifestMember = blobMember(digestOf(file, 'index.json', desc, 'manifests[0]'));
    const manifest = parseJson(file, manifestMember, (await more([manifestMember])).get(manifestMember));
    if (!isObject(manifest) || !Array.isArray(manifest.layers)) throw malformed(file, manifestMember, 'the image manifest has no list of layers');
    const configMember = blobMember(digestOf(file, manifestMember, manifest.config, 'config'));
    const layers = manifest.layers.map((l, i) => blobMember(digestOf(file, manifestMember, l, `layers[${i}]`)));
    const annotations = isObject(desc) && isObject(desc.annotations) ? desc.annotations : {};
    const ref = annotations['org.opencontainers.image.ref.name'];
    return {
      format: 'oci',
      config: checkConfig(file, configMember, parseJson(file, configMember, (await more([configMember])).get(configMember))),
      repoTags: typeof ref === 'string' && ref ? [ref] : [],
      layers: layers.map((member) => ({ member, bytes: size(member) })),
    };
  }
  throw new UserError(`${file} is a tar archive but not an image tarball (no manifest.json or index.json)`);
}

/** The layer path a member of an image layer takes: it must lie under opt/. */
function imageLayerPath(file: string, name: string): string | undefined {
  if (name.startsWith('/')) throw new UserError(`${file}: image layer entry '${printable(name)}' is an absolute path (refusing to read it)`);
  const parts = name.split('/').filter((p) => p !== '' && p !== '.');
  if (parts.length === 0) return undefined;
  if (parts[0] !== LAYER_ROOT.slice(1)) {
    throw new UserError(`${file}: image layer entry '${printable(name)}' lies outside ${LAYER_ROOT}; yumda images hold only ${LAYER_ROOT}`);
  }
  if (parts.some((p) => p.startsWith('.wh.'))) throw new UserError(`${file}: image layer entry '${printable(name)}' is a whiteout; layers that delete files are not supported`);
  return layerPathOf(parts.slice(1).join('/'), file);
}

/**
 * Reads an image tarball (OCI image layout or `docker save` archive) holding a /opt layer: the
 * metadata first (only the members it names, each small), then each layer's entries in order,
 * streamed through gunzip, checked like a zip's and counted against Lambda's image limit.
 */
export async function readImageTarball(file: string, opts: ReadOptions = {}): Promise<ArchiveContents & { image: ImageInfo }> {
  const { data: top, sizes } = await readMembers(file, new Set(['manifest.json', 'index.json']));
  const image = await locateImage(file, top, sizes, async (names) => (await readMembers(file, new Set(names))).data);
  const wanted = new Set(image.layers.map((l) => l.member));
  for (const l of image.layers) if (!sizes.has(l.member)) throw new UserError(`${file}: the image's layer ${printable(l.member)} is missing from the tarball`);

  const byPath = new Map<string, LayerEntry>();
  const kept = new Map<string, Buffer>();
  const budget = new UnpackBudget(file, opts.limit ?? READ_LIMITS.image);
  const readLayer = async (blob: Readable): Promise<void> => {
    const head = await peek(blob, 2);
    const plain = head.bytes[0] === 0x1f && head.bytes[1] === 0x8b ? head.stream.pipe(createGunzip()) : head.stream;
    await eachMember(plain, async (h, body) => {
      budget.entry(h.name);
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
          if (src?.kind !== 'file') throw new UserError(`${file}: hard link '${printable(h.name)}' names '${printable(h.linkname ?? '')}', which is not an earlier file`);
          byPath.set(p, { ...src, path: p });
          return;
        }
        case 'file':
        case 'contiguous-file': {
          budget.check(h.size ?? 0, h.name);
          const got = await sinkFile(body, { file, name: h.name, budget, store: opts.store, keep: opts.keep?.(p) ?? false });
          byPath.set(p, { path: p, kind: 'file', mode, size: got.size, sha256: got.sha256, ...(got.hostPath ? { hostPath: got.hostPath } : {}) });
          if (got.data) kept.set(p, got.data);
          return;
        }
        default:
          throw new UserError(`${file}: image layer entry '${printable(h.name)}' is a ${h.type}; a layer holds files, directories and symlinks`);
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
