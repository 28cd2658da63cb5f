import type { PackedManifest } from '../format/layer-manifest.js';
import type { FileTree } from '../tree/types.js';
import { unzippedSize } from '../emit/archive-entries.js';
import { formatBytes } from '../util/format.js';
import { PACK_LEVEL, PACK_TIGHT_LEVEL, PACK_WINDOW_LOG, packedLayer, packedTree, unpackTools } from './assemble.js';
import { compressTree, type CompressContext } from './compress.js';
import { tmpMb, type PackedLayer } from './packed-layer.js';
import { LAMBDA_UNZIPPED_LIMIT, META_DIR } from '../format/lambda.js';

/** What `--pack` made, for the manifest and the report. */
export interface PackReport {
  manifest: PackedManifest;
  description: PackedLayer;
  /** zstd -d | tar -x of the archive, timed once in the build container on this machine. */
  unpackMs: number;
  /** The archive came from the cache: the tree had been compressed before. */
  reused: boolean;
  /** Files whose compiled-in /opt addresses moved to /tmp. */
  retargetedFiles: number;
  /** The layer's environment, moved to /tmp with the tree. */
  env: Record<string, string>;
}

export interface PackInput extends CompressContext {
  /** The relocated layer, closure-checked: what would have been written unpacked. */
  layer: FileTree;
  /** Builds `tar zstd` for the same target and runtime (those the runtime lacks), relocated and closure-checked. */
  buildTools: (packages: string[]) => Promise<FileTree>;
  runtimePackages: ReadonlySet<string>;
  /** Unzipped bytes the layer must fit in (default: Lambda's 250 MB). */
  limitBytes?: number;
}

/** `--pack`: the relocated layer as one archive plus what unpacks and launches it (docs/packed-layers.md). */
export async function packLayer(input: PackInput): Promise<{ layer: FileTree; report: PackReport }> {
  const save = (data: Buffer) => input.store.save(data);
  const packed = packedTree(input.layer, save);
  const needed = ['tar', 'zstd'].filter((t) => !input.runtimePackages.has(t));
  input.step(needed.length ? `building ${needed.join(' and ')} to unpack the layer on Lambda` : 'the runtime has tar and zstd to unpack the layer');
  const toolsLayer = needed.length ? await input.buildTools(needed) : new Map();
  const tools = unpackTools({ layer: toolsLayer, runtimePackages: input.runtimePackages });
  const meta: FileTree = new Map([...input.layer].filter(([p]) => p === META_DIR || p.startsWith(`${META_DIR}/`)));
  let level = PACK_LEVEL;
  let archive = await compressTree({ ...input, packed, level });
  let { layer, description } = packedLayer({ packed, archive, tools, meta });
  // the archive's bytes count against the 250 MB like any file: where the fast level leaves the
  // layer over the limit, the slow one is worth its minutes (about 10% smaller)
  const fastBytes = unzippedSize(layer);
  if (fastBytes > (input.limitBytes ?? LAMBDA_UNZIPPED_LIMIT)) {
    input.step(`at zstd -${level} the layer is ${formatBytes(fastBytes)}, over Lambda's limit: compressing again at -${PACK_TIGHT_LEVEL}`);
    level = PACK_TIGHT_LEVEL;
    archive = await compressTree({ ...input, packed, level });
    ({ layer, description } = packedLayer({ packed, archive, tools, meta }));
  }
  const manifest: PackedManifest = {
    archive: description.archive,
    packedBytes: archive.bytes,
    treeBytes: packed.contentBytes,
    tmpBytes: packed.unpackedBytes,
    tmpMb: tmpMb(packed.unpackedBytes),
    unpackDir: packed.unpackDir,
    links: packed.topLevel,
    programs: description.programs.map((p) => p.name),
    compression: { format: 'zstd', level, windowLog: PACK_WINDOW_LOG },
    tools: { tar: tools.tar, zstd: tools.zstd },
  };
  return { layer, report: { manifest, description, unpackMs: archive.unpackMs, reused: archive.reused, retargetedFiles: packed.retarget.files.length, env: packed.env } };
}
