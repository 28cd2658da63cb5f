import path from 'node:path';
import type { ContentStore } from '../cache/content-store.js';
import type { CachePaths } from '../cache/paths.js';
import { TreeCache } from '../cache/trees.js';
import { droppedLine } from '../cache/json-store.js';
import type { LayerManifest } from '../format/layer-manifest.js';
import type { RelocateReport } from '../relocate/relocate.js';
import type { CycloneDxBom } from '../sbom/cyclonedx.js';
import type { PackageLicense } from '../sbom/licenses.js';
import type { ScriptsReport } from '../stage/scripts.js';
import type { UnusableLeftOut } from '../stage/unusable.js';
import type { ClosureProblem } from '../check/gate.js';
import type { VersionProblem } from '../check/versions.js';
import type { FileTree } from '../tree/types.js';
import { sha256 } from '../util/hash.js';
import { toolVersion } from '../util/version.js';
import { SPDX_LIST } from '../sbom/licenses.js';
import type { BuildSpec } from './spec.js';
import type { BuildInputs } from './inputs.js';
import type { CachedPlan } from './steps.js';

declare const YUMDA_CODE_DIGEST: string | undefined;

/**
 * The digest of the code that builds layers (scripts/bundle.mjs sets it in the bundle the bin
 * runs: its modules and templates). Unset when yumda runs unbundled, from dist/src/ or through
 * the test runner: code that may change between two runs without a new digest reuses no build.
 */
export const CODE_DIGEST: string | undefined = typeof YUMDA_CODE_DIGEST === 'string' ? YUMDA_CODE_DIGEST : undefined;

/** What a build made after resolving, besides the tree: all a reused build has to give back. */
export interface BuildOutcome {
  report: RelocateReport;
  manifest: LayerManifest;
  sbom: CycloneDxBom;
  /** What cannot work on Lambda, left out: one entry per group. */
  unusable: UnusableLeftOut[];
  /** Shared libraries shipped ELF files need that neither the layer nor the runtime has. */
  missing: ClosureProblem[];
  /** Symbol versions shipped ELF files need that the library they load lacks. */
  versions: VersionProblem[];
  /** Files that would replace the runtime's C library. */
  cLibrary: string[];
  /** ELF files the closure check read. */
  elfChecked: number;
  /** Each package's license, read from the staged tree. */
  licenses: Map<string, PackageLicense>;
  /** What the maintainer scripts generated and the layer ships. */
  scripts: ScriptsReport & { layerPaths: Map<string, string> };
  /** The warnings the build said about the layer, said again when it is reused. */
  warnings: string[];
}

/** The outcome as the record's note keeps it: maps as pairs, and each path's package. */
interface RecordNote extends Omit<BuildOutcome, 'licenses' | 'scripts'> {
  licenses: Array<[string, PackageLicense]>;
  scripts: ScriptsReport & { layerPaths: Array<[string, string]> };
  pkg: Record<string, string>;
}

/**
 * What a build's spec says that does not change the layer: where the cache is, the network of
 * the build containers, whether to resolve again (the plan in the key says what came of it), a
 * dry run (which records nothing) and the lock a frozen build is held to (checked before this).
 * Every other field is in the key, so a field added later changes the key until it is listed here.
 */
const NOT_DECIDING: ReadonlyArray<keyof BuildSpec> = ['cacheDir', 'network', 'refresh', 'dryRun', 'frozen'];

/**
 * Which builds are kept: not a packed layer (its archive is cached by the tree it packs, in
 * cache/packs) and not a --local one (what it stages depends on the machine it runs on).
 */
export function reusable(spec: BuildSpec, code: string | undefined = CODE_DIGEST): code is string {
  return code !== undefined && !spec.pack && !spec.local;
}

/**
 * The key of a finished build: the code that built it, the request, everything read from the
 * registry and the recipes, and the resolved plan with the build image it was resolved in. Two
 * builds with one key stage the same packages, run the same scripts in the same image and apply
 * the same rules: they make the same layer.
 */
export function buildKey(code: string, spec: BuildSpec, inputs: BuildInputs, resolved: CachedPlan): string {
  const deciding = Object.fromEntries(Object.entries(spec).filter(([k]) => !NOT_DECIDING.includes(k as keyof BuildSpec)));
  const { deployTarget, target, deployRuntime, runtime, recipes, unusableGroups, repositories } = inputs;
  return sha256(
    JSON.stringify([
      'yumda-build-v1',
      code,
      // read at run time, outside the code digest: the version the manifest records, the license list the SBOM uses
      toolVersion,
      sha256(SPDX_LIST.join('\n')),
      deciding,
      { deployTarget, target, deployRuntime, runtime, recipes, unusableGroups, repositories },
      resolved.plan,
      resolved.requests,
      resolved.imageIdentity,
    ]),
  );
}

/**
 * Finished builds by key (buildKey), beside the zips they wrote: `yumda cache clean --only zips`
 * drops both. The layer is kept as a tree of the content store and comes back only when every
 * file of it still has the bytes it was stored with (cache/trees.ts); the rest of what the build
 * made is the record's note. A warm build of an unchanged request then costs reading the plan,
 * this record and the layer's files, and copying the zip.
 */
export class BuildRecords {
  private readonly trees: TreeCache;

  constructor(
    paths: CachePaths,
    store: ContentStore,
    private readonly warn: (line: string) => void,
  ) {
    this.trees = new TreeCache(path.join(paths.zips, 'builds'), store, warn);
  }

  get(key: string): { layer: FileTree; outcome: BuildOutcome } | undefined {
    const hit = this.trees.get(key, '', { what: 'finished build', instead: 'building the layer again' });
    if (!hit) return undefined;
    let note: RecordNote;
    try {
      note = JSON.parse(hit.note ?? '') as RecordNote;
    } catch {
      // sealed, so written so by a yumda: drop it rather than trust any part of it
      const file = this.trees.drop(key);
      this.warn(droppedLine(`the cached finished build (${file})`, 'its note is not JSON', 'building the layer again'));
      return undefined;
    }
    for (const e of hit.tree.values()) {
      const pkg = note.pkg[e.path];
      if (pkg === undefined) delete e.pkg;
      else e.pkg = pkg;
    }
    const { pkg: _pkg, licenses, scripts, ...rest } = note;
    return {
      layer: hit.tree,
      outcome: { ...rest, licenses: new Map(licenses), scripts: { ...scripts, layerPaths: new Map(scripts.layerPaths) } },
    };
  }

  /** Keeps the build; a cache that cannot be written (a full disk) says so in one line and fails nothing. */
  put(key: string, layer: FileTree, outcome: BuildOutcome): void {
    try {
      this.keep(key, layer, outcome);
    } catch (e) {
      this.warn(`cache: the finished build was not kept (${(e as NodeJS.ErrnoException).code ?? String(e)}): the next build of it builds anew`);
    }
  }

  private keep(key: string, layer: FileTree, outcome: BuildOutcome): void {
    const pkg: Record<string, string> = {};
    for (const e of layer.values()) if (e.pkg !== undefined) pkg[e.path] = e.pkg;
    const note: RecordNote = {
      ...outcome,
      licenses: [...outcome.licenses],
      scripts: { ...outcome.scripts, layerPaths: [...outcome.scripts.layerPaths] },
      pkg,
    };
    this.trees.put(key, layer.values(), { note: JSON.stringify(note) });
  }
}

/**
 * Whether a warning is about the layer, to be said again when the build is reused; a warning
 * about the cache's own state (a damaged entry dropped, cache/json-store.ts droppedLine) was true
 * of that run only.
 */
export function aboutTheLayer(line: string): boolean {
  return !line.startsWith('cache: ');
}
