import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream, statSync } from 'node:fs';
import path from 'node:path';
import { Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import tar from 'tar-stream';
import type { LayerManifest } from '../format/layer-manifest.js';
import type { Arch } from '../registry/arch.js';
import type { FileTree } from '../tree/types.js';
import { writeAtomically, type ReplaceRule } from '../util/atomic.js';
import { outputRule } from './outputs.js';
import { withTempDir } from '../util/tempdir.js';
import { archiveEntries, FIXED_DATE } from './archive-entries.js';
import { treeTarStream, type TarMember } from '../tree/tar.js';
import { LAYER_ROOT } from '../format/lambda.js';
import type { GatedLayer } from '../format/gated.js';

/**
 * The layer as a container image: one layer holding /opt and nothing else (FROM scratch), for
 * `COPY --from=<image> /opt /opt`. Every byte is fixed by the layer: entries in archive order,
 * fixed times and owners, a config whose `created` is the same fixed date, so the same layer
 * always gives the same image ID (the config's digest) and the same blobs.
 */

export type ImageFormat = 'oci' | 'docker-archive';

export const MEDIA = {
  manifest: 'application/vnd.oci.image.manifest.v1+json',
  index: 'application/vnd.oci.image.index.v1+json',
  config: 'application/vnd.oci.image.config.v1+json',
  layer: 'application/vnd.oci.image.layer.v1.tar',
  layerGzip: 'application/vnd.oci.image.layer.v1.tar+gzip',
} as const;

const CREATED = FIXED_DATE.toISOString().replace(/\.000Z$/, 'Z');

export interface ImageSpec {
  arch: Arch;
  labels: Record<string, string>;
  /** `name:tag` the image is known by once loaded; not part of the image's identity. */
  tag?: string | undefined;
}

export interface LayerBlob {
  /** Where the blob was written. */
  file: string;
  /** sha256 of the uncompressed tar (the config's diff_id). */
  diffId: string;
  /** sha256 and size of the blob as stored. */
  digest: string;
  size: number;
  gzip: boolean;
}

export interface ImageDigests {
  /** The image ID: the config's digest. */
  imageId: string;
  config: Buffer;
  layer: LayerBlob;
  /** OCI manifest and its digest (what a registry reports after a push). */
  manifest: Buffer;
  manifestDigest: string;
}

const sha = (data: Buffer) => `sha256:${createHash('sha256').update(data).digest('hex')}`;
const hex = (digest: string) => digest.replace(/^sha256:/, '');

/** Counts and hashes what flows through. */
function hashing(): Transform & { digest(): string; bytes(): number } {
  const h = createHash('sha256');
  let n = 0;
  const t = new Transform({
    transform(chunk: Buffer, _enc, cb) {
      h.update(chunk);
      n += chunk.length;
      cb(null, chunk);
    },
  });
  return Object.assign(t, { digest: () => `sha256:${h.digest('hex')}`, bytes: () => n });
}

/** Labels an image gets from the layer's manifest: what it holds and what it is for. */
export function imageLabels(m: LayerManifest): Record<string, string> {
  const labels: Record<string, string> = {
    'org.opencontainers.image.description': `${m.requested.join(' ')} for ${m.target} ${m.arch}, relocated under /opt by yumda`,
    'org.yumda.arch': m.arch,
    'org.yumda.packages': m.packages.map((p) => `${p.name}=${p.version}`).join(','),
    'org.yumda.recipes': m.recipes.join(','),
    'org.yumda.requested': m.requested.join(','),
    'org.yumda.runtime': m.runtime,
    'org.yumda.target': m.target,
    'org.yumda.version': m.tool.version,
  };
  return Object.fromEntries(Object.entries(labels).sort(([a], [b]) => a.localeCompare(b)));
}

/** The tar stream of the image's layer: `opt/` and everything under it, in archive order. */
export function layerTarStream(layer: FileTree): Readable {
  const root = LAYER_ROOT.slice(1);
  const members: TarMember[] = [
    { name: root, entry: { kind: 'dir', path: LAYER_ROOT, mode: 0o755 } },
    ...archiveEntries(layer).map(({ name, entry }) => ({ name: `${root}/${name}`, entry })),
  ];
  return treeTarStream(members, FIXED_DATE);
}

/** Writes the layer blob to `file`, gzip-compressed or not; gzip's header has no time or name. */
export async function writeLayerBlob(layer: FileTree, file: string, gzip: boolean): Promise<LayerBlob> {
  const plain = hashing();
  const stored = hashing();
  const stages: Array<NodeJS.ReadableStream | NodeJS.WritableStream> = [layerTarStream(layer), plain];
  if (gzip) stages.push(createGzip({ level: 6 }));
  stages.push(stored, createWriteStream(file));
  await pipeline(stages as unknown as [Readable, ...NodeJS.WritableStream[]]);
  return { file, diffId: plain.digest(), digest: stored.digest(), size: stored.bytes(), gzip };
}

/** The image config and OCI manifest for a layer blob. */
export function imageDigests(spec: ImageSpec, layer: LayerBlob, toolVersion: string): ImageDigests {
  const [, dockerArch, variant] = /^linux\/([^/]+)(?:\/(.+))?$/.exec(spec.arch.docker) ?? [];
  const config = Buffer.from(
    JSON.stringify({
      architecture: dockerArch,
      ...(variant ? { variant } : spec.arch.lambda === 'arm64' ? { variant: 'v8' } : {}),
      os: 'linux',
      created: CREATED,
      config: { Labels: spec.labels },
      rootfs: { type: 'layers', diff_ids: [layer.diffId] },
      history: [{ created: CREATED, created_by: `yumda ${toolVersion}`, comment: 'the /opt tree of a yumda layer' }],
    }),
  );
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: MEDIA.manifest,
      config: { mediaType: MEDIA.config, digest: sha(config), size: config.length },
      layers: [{ mediaType: layer.gzip ? MEDIA.layerGzip : MEDIA.layer, digest: layer.digest, size: layer.size }],
    }),
  );
  return { imageId: sha(config), config, layer, manifest, manifestDigest: sha(manifest) };
}

/** `deps/poppler:al2023` → repository and tag (a registry port is not a tag). */
export function splitTag(ref: string): { repository: string; tag: string } {
  const slash = ref.lastIndexOf('/');
  const colon = ref.lastIndexOf(':');
  return colon > slash ? { repository: ref.slice(0, colon), tag: ref.slice(colon + 1) } : { repository: ref, tag: 'latest' };
}

interface Member {
  name: string;
  data?: Buffer;
  /** A file on disk, streamed. */
  file?: string;
  dir?: boolean;
}

/**
 * Writes the image as a tarball. `oci`: an OCI image layout (oci-layout, index.json, blobs) that
 * also carries Docker's manifest.json, as `docker save` does since Docker 25, so both skopeo/crane
 * and `docker load` read it. `docker-archive`: the classic `docker save` layout
 * (<config>.json, <layer>/layer.tar, manifest.json, repositories).
 */
export async function writeImageTarball(
  img: ImageDigests,
  spec: ImageSpec,
  format: ImageFormat,
  dest: string,
  rule: ReplaceRule = outputRule({ kind: 'image', what: 'the image tarball' }),
): Promise<{ bytes: number }> {
  const members: Member[] = [];
  const repoTags = spec.tag ? [spec.tag] : [];
  const dockerManifest = (config: string, layer: string) => Buffer.from(JSON.stringify([{ Config: config, RepoTags: repoTags, Layers: [layer] }]));
  if (format === 'oci') {
    const ref = spec.tag ? splitTag(spec.tag) : undefined;
    const index = {
      schemaVersion: 2,
      mediaType: MEDIA.index,
      manifests: [
        {
          mediaType: MEDIA.manifest,
          digest: img.manifestDigest,
          size: img.manifest.length,
          ...(ref ? { annotations: { 'io.containerd.image.name': spec.tag, 'org.opencontainers.image.ref.name': ref.tag } } : {}),
        },
      ],
    };
    const blob = (d: string) => `blobs/sha256/${hex(d)}`;
    members.push(
      { name: 'blobs/', dir: true },
      { name: 'blobs/sha256/', dir: true },
      ...[
        { name: blob(img.imageId), data: img.config },
        { name: blob(img.layer.digest), file: img.layer.file },
        { name: blob(img.manifestDigest), data: img.manifest },
      ].sort((a, b) => a.name.localeCompare(b.name)),
      { name: 'index.json', data: Buffer.from(JSON.stringify(index)) },
      { name: 'manifest.json', data: dockerManifest(blob(img.imageId), blob(img.layer.digest)) },
      { name: 'oci-layout', data: Buffer.from(JSON.stringify({ imageLayoutVersion: '1.0.0' })) },
    );
  } else {
    const layerId = hex(img.layer.diffId);
    const configName = `${hex(img.imageId)}.json`;
    const v1 = { id: layerId, created: CREATED, os: 'linux', architecture: JSON.parse(img.config.toString()).architecture, config: { Labels: spec.labels } };
    members.push(
      { name: configName, data: img.config },
      { name: `${layerId}/`, dir: true },
      { name: `${layerId}/VERSION`, data: Buffer.from('1.0') },
      { name: `${layerId}/json`, data: Buffer.from(JSON.stringify(v1)) },
      { name: `${layerId}/layer.tar`, file: img.layer.file },
      { name: 'manifest.json', data: dockerManifest(configName, `${layerId}/layer.tar`) },
    );
    if (spec.tag) {
      const { repository, tag } = splitTag(spec.tag);
      members.push({ name: 'repositories', data: Buffer.from(JSON.stringify({ [repository]: { [tag]: layerId } })) });
    }
  }
  return writeAtomically(
    dest,
    async (tmp) => {
      const pack = tar.pack();
      const out = createWriteStream(tmp);
      // the tarball's write fails (a full disk) while a member is still being fed in: that failure
      // ends the whole write at once, rather than surface later as an unhandled rejection or
      // leave the member's copy waiting on a tar nobody reads
      const done = pipeline(pack, out);
      done.catch(() => undefined);
      const common = { uid: 0, gid: 0, uname: '', gname: '', mtime: FIXED_DATE };
      for (const m of members) {
        if (m.dir) pack.entry({ ...common, name: m.name, type: 'directory', mode: 0o755 });
        else if (m.data) pack.entry({ ...common, name: m.name, mode: 0o644 }, m.data);
        else {
          const sink = pack.entry({ ...common, name: m.name, mode: 0o644, size: statSync(m.file!).size });
          const member = pipeline(createReadStream(m.file!), sink);
          member.catch(() => undefined);
          await Promise.race([member, done]);
        }
      }
      pack.finalize();
      await done;
      return { bytes: statSync(tmp).size };
    },
    rule,
  );
}

/** Writes the layer as an image tarball at `dest` (the layer blob goes through a temporary file). */
export async function writeImage(
  layer: GatedLayer,
  spec: ImageSpec,
  format: ImageFormat,
  dest: string,
  toolVersion: string,
  rule?: ReplaceRule,
): Promise<ImageDigests & { bytes: number }> {
  return withTempDir(async (dir) => {
    const blob = await writeLayerBlob(layer, path.join(dir, 'layer.tar'), format === 'oci');
    const img = imageDigests(spec, blob, toolVersion);
    const { bytes } = await writeImageTarball(img, spec, format, dest, rule);
    return { ...img, bytes };
  });
}
