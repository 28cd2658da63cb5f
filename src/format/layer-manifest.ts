import type { FileTree } from '../tree/types.js';
import { toolVersion } from '../util/version.js';
import { META_DIR } from './lambda.js';

/**
 * The layer format: where yumda keeps what it writes about a layer inside it, and the layer
 * manifest. Everything that writes or reads layers (emit, sbom, publish, inspect, check, layer)
 * imports these from here, below the pipeline that produces them.
 */

export const MANIFEST_PATH = `${META_DIR}/manifest.json`;
export const SBOM_PATH = `${META_DIR}/sbom.cdx.json`;

export interface LayerPackage {
  name: string;
  version: string;
  arch: string;
  sourcePackage?: string;
  requiredBy: string[];
  /** Files of this package the layer ships, and their bytes. */
  files: number;
  bytes: number;
}

/** /opt/.yumda/manifest.json: what the layer is made of. No timestamps: same input, same bytes. */
export interface LayerManifest {
  manifestVersion: 1;
  tool: { name: 'yumda'; version: string };
  target: string;
  arch: string;
  runtime: string;
  requested: string[];
  packages: LayerPackage[];
  /** Bytes of files yumda generated that belong to no package (the env file and the exec wrapper); wrappers count under their program's package, and this manifest and the SBOM are not counted. */
  generatedBytes: number;
  env: Record<string, string>;
  recipes: string[];
  /** Modules left out because a library they need is nowhere (see check/closure.ts), with the package that has it. */
  leftOut?: Array<{ file: string; soname: string; version?: string; package?: string }>;
  /** What cannot work on Lambda, left out by group (registry/unusable-on-lambda.json), with the libraries only it needed. */
  unusable?: UnusableLeftOut[];
  /** Files the packages' maintainer scripts and triggers generated, as the layer ships them, with the package whose directory holds them (stage/scripts.ts). */
  generatedByScripts?: Array<{ file: string; bytes: number; package?: string }>;
  /** Bare directories compiled into binaries that relocation moved to the layer, and why (relocate/directories.ts). */
  rewrittenDirectories?: Array<{ file: string; from: string; to: string; because: string }>;
  /** Set for a packed layer (`--pack`): the tree is one archive, unpacked into /tmp on first use. */
  packed?: PackedManifest;
  /** Set for a self-contained layer (`--from`): the C library it carries and how its programs reach it. */
  selfContained?: SelfContainedManifest;
}

/** A layer that carries its source distribution's C library (relocate/clibrary.ts). */
export interface SelfContainedManifest {
  /** The target whose distribution the packages come from. */
  from: string;
  cLibrary: { package: string; version: string; loader: string };
  /** The ELF interpreter every program names. */
  interpreter: string;
  /** What the programs' RPATH searches, in order. */
  libraryDirs: string[];
  /** Whether code can load the layer's libraries in-process, on the runtime's C library (check/in-process.ts). */
  inProcess: { usable: boolean; needs?: string; runtimeHas?: string };
}

/**
 * A packed layer as its manifest records it. `packages` above count the files inside the archive.
 * The unpack time is not here: it is a measurement, and a manifest holds only what the inputs
 * decide (the install report and `yumda verify` give it).
 */
export interface PackedManifest {
  archive: string;
  packedBytes: number;
  /** Bytes of the tree's files and links (what `du --apparent-size` counts). */
  treeBytes: number;
  /** The /tmp space the unpacked tree takes, in blocks, as the launcher checks it. */
  tmpBytes: number;
  /** The same in the MB of Lambda's ephemeral storage setting, rounded up. */
  tmpMb: number;
  unpackDir: string;
  /** Top-level names linked at /tmp/<name> once unpacked (the tree was relocated for /tmp). */
  links: string[];
  /** Launchers in /opt/bin. */
  programs: string[];
  compression: { format: 'zstd'; level: number; windowLog: number };
  /** Where the launcher's tar and zstd are: in the layer (/opt/.yumda/bin) or the runtime's. */
  tools: { tar: string; zstd: string };
}

/** One group of what cannot work on Lambda, as the layer's manifest records it. */
export interface UnusableLeftOut {
  id: string;
  what: string;
  why: string;
  files: number;
  bytes: number;
  libraries: string[];
  libraryBytes: number;
}

export function layerManifest(args: {
  target: string;
  arch: string;
  runtime: string;
  requested: string[];
  /** The plan's packages, in its order. */
  packages: ReadonlyArray<Omit<LayerPackage, 'files' | 'bytes'>>;
  layer: FileTree;
  /** What the layer's libraries need set (relocation's), unless `packed` moved it. */
  env: Record<string, string>;
  rewrittenDirectories: ReadonlyArray<{ file: string; from: string; to: string; because: string }>;
  recipes: string[];
  leftOut?: Array<{ file: string; soname: string; version?: string; package?: string }>;
  unusable?: UnusableLeftOut[];
  generatedByScripts?: Array<{ file: string; bytes: number; package?: string }>;
  /** A packed layer: its record. */
  packed?: PackedManifest;
  selfContained?: SelfContainedManifest;
}): LayerManifest {
  const sizes = new Map<string, { files: number; bytes: number }>();
  let generatedBytes = 0;
  for (const e of args.layer.values()) {
    if (e.kind === 'dir') continue;
    const bytes = e.kind === 'file' ? e.size : 0;
    if (!e.pkg) {
      generatedBytes += bytes;
      continue;
    }
    const s = sizes.get(e.pkg) ?? { files: 0, bytes: 0 };
    s.files++;
    s.bytes += bytes;
    sizes.set(e.pkg, s);
  }
  return {
    manifestVersion: 1,
    tool: { name: 'yumda', version: toolVersion },
    target: args.target,
    arch: args.arch,
    runtime: args.runtime,
    requested: args.requested,
    packages: args.packages.map((p) => ({
      name: p.name,
      version: p.version,
      arch: p.arch,
      ...(p.sourcePackage ? { sourcePackage: p.sourcePackage } : {}),
      requiredBy: p.requiredBy,
      files: sizes.get(p.name)?.files ?? 0,
      bytes: sizes.get(p.name)?.bytes ?? 0,
    })),
    generatedBytes,
    env: args.env,
    recipes: args.recipes,
    ...(args.leftOut?.length ? { leftOut: args.leftOut } : {}),
    ...(args.unusable?.length ? { unusable: args.unusable } : {}),
    ...(args.generatedByScripts?.length ? { generatedByScripts: args.generatedByScripts } : {}),
    ...(args.rewrittenDirectories.length ? { rewrittenDirectories: [...args.rewrittenDirectories] } : {}),
    ...(args.packed ? { packed: args.packed } : {}),
    ...(args.selfContained ? { selfContained: args.selfContained } : {}),
  };
}
