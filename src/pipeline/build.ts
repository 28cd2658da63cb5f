import type { Arch } from '../registry/arch.js';
import type { Repository, Runtime, Target } from '../registry/types.js';
import type { AppliedRecipe } from '../recipes/types.js';
import type { PackageRequest } from '../resolve/backend.js';
import type { ImageIdentity } from '../docker/images.js';
import type { Plan } from '../resolve/plan.js';
import { gateLayer, type ClosureProblem, type GateOptions, type GateReport } from '../check/gate.js';
import { cachePaths, ensureCacheDir } from '../cache/paths.js';
import { useCacheForBuild } from '../cache/users.js';
import { ContentStore } from '../cache/content-store.js';
import { ContentMemo } from '../tree/content-memo.js';
import type { FileTree } from '../tree/types.js';
import { Diagnostics } from '../util/diagnostics.js';
import { UserError, inStep } from '../util/errors.js';
import { BuildSession, defaultBuildImage } from '../stage/session.js';
import type { PackReport } from '../pack/pack.js';
import { buildImageSource, readInputs, repositoryLines } from './inputs.js';
import {
  checkRelocatedClosure,
  closureVerdict,
  DEFAULT_METADATA_MAX_AGE_MINUTES,
  describeLayer,
  packIfAsked,
  relocateStaged,
  resolvePlan,
  stagePackages,
  type BuildContext,
  type Resolved,
} from './steps.js';
import type { BuildEvents, BuildSpec } from './spec.js';
import { aboutTheLayer, BuildRecords, buildKey, CODE_DIGEST, reusable, type BuildOutcome } from './reuse.js';

export { defaultBuildImage, DEFAULT_METADATA_MAX_AGE_MINUTES };
export { backendFor, buildImageSource, parseRepos, repositoryLines } from './inputs.js';
export { unreadableLine, type CachedPlan } from './steps.js';
export type { BuildEvents, BuildSetup, BuildSpec } from './spec.js';
export type { ClosureProblem };

/** What a build knows once its plan is resolved: all a dry run has. */
export interface Planned {
  /** The target the layer is for (what it deploys into). */
  target: Target;
  /** Set for a self-contained layer: the target whose distribution the packages came from. */
  from?: Target;
  arch: Arch;
  runtime: Runtime;
  image: string;
  /** The build image's local ID and registry digests. */
  imageIdentity: ImageIdentity;
  repositories: Repository[];
  plan: Plan;
  /** The requests as resolved: version ranges replaced by the version chosen. */
  requests: PackageRequest[];
  recipes: AppliedRecipe[];
  /** What the caches saved: the plan reused, packages unpacked from the cache, the whole finished build reused (pipeline/reuse.ts). */
  cache: { planReused: boolean; packagesFetched: number; packagesCached: number; buildReused: boolean };
  /** Every warning of the build; the write gate adds its own to the same channel. */
  diagnostics: Diagnostics;
}

/** `--dry-run`, `yumda why`, `yumda update`: resolved, nothing staged or built. */
export interface DryRun extends Planned {
  kind: 'dry-run';
}

/** A layer built and checked, not yet through the write gate (gateBuild); what a build made is a BuildOutcome, which reuse keeps. */
export interface BuiltLayer extends Planned, Omit<BuildOutcome, 'warnings'> {
  kind: 'built';
  layer: FileTree;
  /** Set for a packed layer: what packing made. */
  packed?: PackReport;
}

/**
 * A build is this list of named steps (pipeline/steps.ts), each taking the one context and
 * returning its own typed part: read the inputs, resolve the plan, [a dry run stops here] stage
 * the packages, relocate them, check the closure, pack when asked, describe the layer (manifest,
 * SBOM), and judge the closure for the write gate. An internal error leaves with the name of the
 * step it came from (util/errors.ts inStep); a user's error already says what it is about.
 */
export async function buildLayer(spec: BuildSpec & { dryRun: true }, events: BuildEvents, diagnostics?: Diagnostics): Promise<DryRun>;
export async function buildLayer(spec: BuildSpec & { dryRun?: false | undefined }, events: BuildEvents, diagnostics?: Diagnostics): Promise<BuiltLayer>;
export async function buildLayer(spec: BuildSpec, events: BuildEvents, diagnostics?: Diagnostics): Promise<DryRun | BuiltLayer>;
export async function buildLayer(spec: BuildSpec, events: BuildEvents, diagnostics = new Diagnostics(events.warn?.bind(events))): Promise<DryRun | BuiltLayer> {
  const c = await openBuild(spec, events, diagnostics);
  try {
    const resolved = await step('resolving the plan', () => resolvePlan(c));
    if (spec.dryRun) return { kind: 'dry-run', ...planned(c, resolved, undefined) };
    const records = reusable(spec)
      ? { store: new BuildRecords(c.paths, c.store, (line) => diagnostics.warn(line)), key: buildKey(CODE_DIGEST!, spec, c.inputs, resolved) }
      : undefined;
    // --refresh builds anew (and keeps what it built): the way past a layer kept by mistake
    const reused = records && !spec.refresh && (await step('reusing the finished build', () => reuseBuild(c, records.store, records.key)));
    if (reused) return { kind: 'built', ...planned(c, resolved, 0, true), ...reused };
    const said = diagnostics.warnings.length;
    const staged = await step('staging the packages', () => stagePackages(c, resolved));
    const relocated = await step('relocating', () => relocateStaged(c, resolved, staged));
    const closure = await step('checking the closure', () => checkRelocatedClosure(c, relocated));
    const shipped = await step('packing', () => packIfAsked(c, relocated));
    const described = await step('describing the layer', () => describeLayer(c, resolved, staged, relocated, shipped));
    const verdict = await step('judging the closure', () => closureVerdict(c, closure, shipped));
    const outcome: BuildOutcome = {
      report: relocated.report,
      manifest: described.manifest,
      sbom: described.sbom,
      licenses: staged.licenses,
      unusable: staged.unusable,
      ...verdict,
      elfChecked: closure.checked,
      scripts: { ...staged.scripts, layerPaths: described.layerPaths },
      warnings: diagnostics.warnings.slice(said).filter(aboutTheLayer),
    };
    // a layer that lacks what this machine could not make is not kept: the next build tries again
    if (records && !staged.degraded) await step('keeping the finished build', () => records.store.put(records.key, shipped.layer, outcome));
    return {
      kind: 'built',
      ...planned(c, resolved, staged.fetched),
      layer: shipped.layer,
      ...(shipped.packed ? { packed: shipped.packed } : {}),
      ...withoutWarnings(outcome),
    };
  } finally {
    await c.session.close();
  }
}

/** The step before any container: inputs read and checked, the cache opened, the session set up (not started). */
async function openBuild(spec: BuildSpec, events: BuildEvents, diagnostics: Diagnostics): Promise<BuildContext> {
  const inputs = readInputs(spec);
  const { target, resolve } = inputs;
  const paths = cachePaths(spec.cacheDir);
  ensureCacheDir(paths.root);
  await useCacheForBuild(paths.root, events.step);
  const session = new BuildSession({
    backend: inputs.backend,
    ctx: resolve,
    buildImage: spec.buildImage,
    network: spec.network,
    freshness: { maxAgeMinutes: DEFAULT_METADATA_MAX_AGE_MINUTES, force: !!spec.refresh },
    events,
    imageSource: buildImageSource(target),
    repositories: repositoryLines(target, spec.arch, inputs.repositories).join(', '),
    local: !!spec.local,
    disposable: !!spec.disposable,
  });
  events.setup?.({
    target,
    runtime: inputs.runtime,
    arch: spec.arch,
    image: session.image,
    imageSource: spec.local ? '' : spec.buildImage ? '--build-image' : buildImageSource(target),
    repositories: inputs.repositories,
  });
  return {
    spec,
    events,
    diagnostics,
    inputs,
    paths,
    store: new ContentStore(paths.content),
    session,
    memo: new ContentMemo(),
    toolsLayer: (names) => toolsLayer(spec, names, events, diagnostics),
  };
}

/**
 * The layer of an earlier build with the same key (pipeline/reuse.ts), its files verified, and
 * what that build said about it said again; undefined when there is none to reuse.
 */
function reuseBuild(c: BuildContext, records: BuildRecords, key: string): Omit<BuiltLayer, keyof Planned | 'kind'> | undefined {
  const hit = records.get(key);
  if (!hit) return undefined;
  c.events.step('layer reused: the same request, plan and yumda as a finished build in the cache');
  for (const line of hit.outcome.warnings) c.diagnostics.warn(line);
  const { scripts } = hit.outcome;
  // what the scripts generated comes from the cache now, like everything else of the layer
  return { layer: hit.layer, ...withoutWarnings(hit.outcome), scripts: { ...scripts, reused: !scripts.skipped } };
}

function withoutWarnings(o: BuildOutcome): Omit<BuildOutcome, 'warnings'> {
  const { warnings: _warnings, ...rest } = o;
  return rest;
}

async function step<T>(name: string, run: () => T | Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (e) {
    throw inStep(e, name);
  }
}

/** `fetched`: how many packages staging downloaded; undefined for a dry run, which stages none. */
function planned(c: BuildContext, r: Resolved, fetched: number | undefined, buildReused = false): Planned {
  const { spec, inputs, session } = c;
  return {
    target: inputs.deployTarget,
    ...(spec.from ? { from: inputs.target } : {}),
    arch: spec.arch,
    runtime: inputs.deployRuntime,
    image: session.image,
    imageIdentity: r.imageIdentity,
    repositories: inputs.repositories,
    plan: r.plan,
    requests: r.requests,
    recipes: r.recipes,
    cache: { planReused: r.planReused, packagesFetched: fetched ?? 0, packagesCached: fetched === undefined ? 0 : r.plan.packages.length - fetched, buildReused },
    diagnostics: c.diagnostics,
  };
}

/**
 * The unpack tools of a packed layer: `yumda install tar zstd` (those the runtime lacks) for the
 * same target, architecture and runtime, a layer of its own, closure-checked: a tool that misses a
 * library would fail on Lambda's first call.
 */
async function toolsLayer(spec: BuildSpec, names: string[], events: BuildEvents, diagnostics: Diagnostics): Promise<FileTree> {
  const r = await buildLayer(
    // for a self-contained layer they are self-contained too (packing gives them their own loader
    // among their libraries): the layer then needs nothing of the runtime but the kernel and a shell;
    // tar and zstd need nothing their scripts would generate
    { ...spec, packages: names.map((name) => ({ name })), pack: false, pins: [], keepUnusable: [], name: 'yumda-unpack-tools', dryRun: false, scripts: false, frozen: undefined },
    { step: (t) => events.detail(`unpack tools: ${t}`), detail: () => undefined, plan: () => undefined },
    diagnostics.child('unpack tools: '),
  );
  if (r.missing.length) {
    throw new UserError(`cannot pack the layer: the unpack tools need ${[...new Set(r.missing.map((m) => m.soname))].join(', ')}, which neither they nor the runtime have`);
  }
  return r.layer;
}

/** A built layer through the write gate (check/gate.ts): what every command that writes one calls. */
export function gateBuild(r: BuiltLayer, opts: GateOptions): GateReport {
  return gateLayer(
    {
      layer: r.layer,
      missing: r.missing,
      versions: r.versions,
      cLibrary: r.cLibrary,
      runtimeId: r.runtime.id,
      // the target's own runtime lacks what is needed, so it is no way out; under another runtime (--runtime-manifest) it may be
      ...(r.runtime.id === r.target.runtime ? { targetId: r.target.id } : {}),
      packable: !r.packed,
    },
    opts,
    r.diagnostics,
  );
}
