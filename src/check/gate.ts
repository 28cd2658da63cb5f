import { formatBytes } from '../util/format.js';
import { unzippedSize } from '../emit/archive-entries.js';
import { specialModes } from '../layer/modes.js';
import type { LayerManifest } from '../format/layer-manifest.js';
import { loadRuntime, loadRuntimeFile } from '../registry/load.js';
import type { FileTree } from '../tree/types.js';
import { checkClosure } from './closure.js';
import { cLibraryFix } from './c-library.js';
import { groupVersionProblems, versionGroupLine, type VersionProblem } from './versions.js';
import { UserError } from '../util/errors.js';
import type { Diagnostics } from '../util/diagnostics.js';
import { LAMBDA_IMAGE_LIMIT, LAMBDA_UNZIPPED_LIMIT } from '../format/lambda.js';
import type { GatedLayer } from '../format/gated.js';

/** A shared library a shipped ELF file needs that neither the layer nor the runtime has. */
export interface ClosureProblem {
  file: string;
  soname: string;
  /** A package of the target's repositories that probably provides it. */
  candidate?: string;
}

/** Lambda's limit a layer is written against: a layer zip (250 MB with the function) or a container image (10 GB). */
export type SizeLimit = 'layer' | 'image';

export interface GateOptions {
  /** Write even when a shipped file needs a library neither the layer nor the runtime has. */
  allowMissing: boolean;
  /** Write even over the size limit. */
  force: boolean;
  limit: SizeLimit;
}

export interface GateInput {
  layer: FileTree;
  /** The closure check's findings (empty when the layer was checked and is whole). */
  missing: readonly ClosureProblem[];
  /** For messages: the runtime the closure was checked against. */
  runtimeId: string;
  /** Symbol versions shipped files need that the library they load lacks (`version 'GLIBC_2.38' not found`). */
  versions?: readonly VersionProblem[];
  /** Files that would replace the runtime's C library in a layer that is not self-contained. */
  cLibrary?: readonly string[];
  /** The layer's target, so that the fix names other targets. */
  targetId?: string;
  /** yumda built it unpacked: over the layer limit, packing it is the way out. */
  packable?: boolean;
}

/** What the gate let through, for reports and --json. */
export interface GateReport {
  /** The layer, now writable. */
  layer: GatedLayer;
  unzippedBytes: number;
  limitBytes: number;
  missingLibraries: ClosureProblem[];
  /** Symbol versions missing, written anyway (--allow-missing). */
  missingVersions: VersionProblem[];
  /** Every warning said for the layer: the build's, then the gate's own. */
  warnings: string[];
}

const LIMITS: Record<SizeLimit, { bytes: number; what: string; hint: string }> = {
  layer: {
    bytes: LAMBDA_UNZIPPED_LIMIT,
    what: `Lambda's limit of ${LAMBDA_UNZIPPED_LIMIT} bytes for a function and all its layers`,
    hint: 'drop packages, or pass --force to write it anyway (for container images)',
  },
  image: { bytes: LAMBDA_IMAGE_LIMIT, what: "Lambda's 10 GB limit for a container image", hint: 'drop packages, or pass --force to write it anyway' },
};

/**
 * The one check every way of writing a layer passes (zip, directory, image, tarball, manifest
 * build): a layer that misses a library or a symbol version
 * (`version 'GLIBC_2.38' not found`) or is over its limit is refused unless the matching flag says
 * otherwise, and a layer carrying setuid/setgid bits (one made elsewhere: yumda strips them) or a
 * C library of its own without being self-contained is refused. Throws before anything is written.
 * What it lets through anyway is said on the build's one channel of warnings (`diagnostics`).
 */
export function gateLayer(input: GateInput, opts: GateOptions, diagnostics: Diagnostics): GateReport {
  const warn = (line: string) => diagnostics.warn(line);
  // a C library too old for the programs first: it is the cause, and missing libraries often follow from it
  const groups = groupVersionProblems(input.versions ?? []);
  if (groups.length && !opts.allowMissing) {
    // one line: the newest version missing, who needs it, and the way out
    const g = groups[0]!;
    const others = groups.length > 1 ? ` (and ${groups.length - 1} more librar${groups.length > 2 ? 'ies' : 'y'} lacking versions)` : '';
    const fix =
      'runtime' in g.provider
        ? cLibraryFix(g.library, g.versions[0]!, input.targetId)
        : `the layer's ${g.library} is older than the programs built against it: the packages do not match`;
    throw new UserError(`${versionGroupLine(g)}${others}; nothing written`, { hint: `${fix}; or pass --allow-missing to write it anyway` });
  }
  for (const m of input.missing) {
    warn(`${m.file} needs ${m.soname}, which is neither in the layer nor in the ${input.runtimeId} runtime${m.candidate ? ` (package ${m.candidate} has it)` : ''}`);
  }
  if (input.missing.length && !opts.allowMissing) {
    const sonames = [...new Set(input.missing.map((m) => m.soname))];
    const pkgs = [...new Set(input.missing.flatMap((m) => (m.candidate ? [m.candidate] : [])))];
    throw new UserError(
      `${sonames.length} shared ${sonames.length === 1 ? 'library' : 'libraries'} needed by the layer ${sonames.length === 1 ? 'is' : 'are'} missing (${sonames.join(', ')}); nothing written`,
      {
        hint: pkgs.length ? `add ${pkgs.join(' ')} to the packages, or pass --allow-missing` : 'pass --allow-missing to write the layer anyway',
      },
    );
  }
  for (const g of groups) warn(versionGroupLine(g));
  if (input.cLibrary?.length) {
    throw new UserError(
      `the layer would ship its own C library (${input.cLibrary.slice(0, 2).join(', ')}${input.cLibrary.length > 2 ? ', …' : ''}), which cannot take the place of the ${input.runtimeId} runtime's: its programs still start on the runtime's loader; nothing written`,
      { hint: 'make the layer self-contained, with its C library and loader (--from TARGET), or leave the C library to the runtime' },
    );
  }
  const special = specialModes(input.layer.values());
  if (special.length) {
    throw new UserError(
      `the layer carries setuid, setgid or sticky bits (${special
        .slice(0, 3)
        .map((e) => `${e.path} ${e.mode}`)
        .join(', ')}${special.length > 3 ? ', …' : ''}); nothing written`,
      {
        hint: 'Lambda cannot use them; build the layer with yumda, which clears them',
      },
    );
  }
  const unzippedBytes = unzippedSize(input.layer);
  const limit = LIMITS[opts.limit];
  if (unzippedBytes > limit.bytes && !opts.force) {
    const hint =
      input.packable && opts.limit === 'layer'
        ? 'pass --pack (or "pack": true in yumda.json) to ship it compressed, unpacked into /tmp on the first call; or drop packages, or pass --force to write it anyway (for container images)'
        : limit.hint;
    throw new UserError(`the layer is ${formatBytes(unzippedBytes)} unzipped, over ${limit.what}; nothing written`, { hint });
  }
  return {
    layer: input.layer as GatedLayer,
    unzippedBytes,
    limitBytes: limit.bytes,
    missingLibraries: [...input.missing],
    missingVersions: [...(input.versions ?? [])],
    warnings: [...diagnostics.warnings],
  };
}

/**
 * The gate's input for a layer zip made elsewhere: its closure against the runtime its manifest
 * names. A zip without a yumda manifest names no runtime, so only its size and modes are checked.
 */
export function madeElsewhereGateInput(tree: FileTree, manifest: LayerManifest | undefined, runtimeManifest: string | undefined, diagnostics: Diagnostics): GateInput {
  if (!runtimeManifest && !manifest) {
    diagnostics.warn('the layer has no yumda manifest: its shared libraries were not checked against a runtime');
    return { layer: tree, missing: [], runtimeId: 'unknown' };
  }
  const runtime = runtimeManifest ? loadRuntimeFile(runtimeManifest) : loadRuntime(manifest!.runtime);
  // a self-contained layer (--from) needs nothing of the runtime: its own loader searches only it
  const closure = manifest?.selfContained
    ? checkClosure(tree, [], { runtime: { id: runtime.id, symbolVersions: [] }, selfContained: true })
    : checkClosure(tree, runtime.libraries, { runtime });
  return {
    layer: tree,
    missing: closure.missing,
    versions: closure.versions,
    cLibrary: closure.cLibrary,
    runtimeId: runtime.id,
    // against another runtime than the layer's own, the layer's target may be the way out
    ...(manifest && !runtimeManifest ? { targetId: manifest.target } : {}),
  };
}
