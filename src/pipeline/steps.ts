import type { ImageIdentity } from '../docker/images.js';
import { applicableRecipes } from '../recipes/load.js';
import type { AppliedRecipe } from '../recipes/types.js';
import { NotFoundError, type Backend, type PackageRequest, type ResolveContext } from '../resolve/backend.js';
import { explainNotFound } from '../resolve/not-found.js';
import { pickUpstream } from '../resolve/constraints.js';
import { attribute, type Plan } from '../resolve/plan.js';
import { stagedLicenses, type PackageLicense } from '../sbom/licenses.js';
import { layerSbom, type CycloneDxBom } from '../sbom/cyclonedx.js';
import type { Runner } from '../runner/types.js';
import { DEFAULT_KEEP, place, type LayoutOptions } from '../relocate/placement.js';
import { relocate, type RelocateReport } from '../relocate/relocate.js';
import { PRIVATE_INTERPRETER, SELF_CONTAINED_LIBRARY_DIRS } from '../relocate/self-contained.js';
import { inProcessUse } from '../check/in-process.js';
import { checkClosure, leaveOutUnloadableModules, type ClosureReport, type LeftOutModule } from '../check/closure.js';
import type { ClosureProblem } from '../check/gate.js';
import type { VersionProblem } from '../check/versions.js';
import { refuseCLibraryPackage } from '../check/c-library.js';
import type { CachePaths } from '../cache/paths.js';
import type { ContentStore } from '../cache/content-store.js';
import { droppedLine, JsonStore } from '../cache/json-store.js';
import { PackageCache } from '../cache/packages.js';
import type { ContentMemo } from '../tree/content-memo.js';
import { addWithParents, bytes, type Content, type FileEntry, type FileTree } from '../tree/types.js';
import { UserError } from '../util/errors.js';
import { shortList } from '../util/format.js';
import { checkpoint } from '../util/cleanup.js';
import { sha256 } from '../util/hash.js';
import type { Diagnostics } from '../util/diagnostics.js';
import { layerManifest, MANIFEST_PATH, SBOM_PATH, type LayerManifest } from '../format/layer-manifest.js';
import { toolVersion } from '../util/version.js';
import type { BuildSession } from '../stage/session.js';
import { runPostStage, stagePlan, type StagedRoot } from '../stage/staging.js';
import { stagedFileLimit } from '../stage/limits.js';
import { runMaintainerScripts, type ScriptsReport } from '../stage/scripts.js';
import { leaveOutUnusable, type UnusableLeftOut } from '../stage/unusable.js';
import { packLayer, type PackReport } from '../pack/pack.js';
import { deflateAhead } from '../emit/zip-writer.js';
import { deflatedCacheIn } from '../emit/deflated.js';
import { plural } from '../util/plural.js';
import { requireLockedPlan } from '../project/lock.js';
import type { BuildInputs } from './inputs.js';
import type { BuildEvents, BuildSpec } from './spec.js';

/** Repository metadata, and plans resolved from it, are reused for this long by default. */
export const DEFAULT_METADATA_MAX_AGE_MINUTES = 60;

/** What every step of a build reads: the request, what was read from it, and where the build runs. */
export interface BuildContext {
  spec: BuildSpec;
  events: BuildEvents;
  diagnostics: Diagnostics;
  inputs: BuildInputs;
  paths: CachePaths;
  store: ContentStore;
  /** The build container (or this machine, --local), started only when a step needs it. */
  session: BuildSession;
  /**
   * What the build computed from file contents (ELF parses): the unusable-file pass, relocation,
   * the module pass and the closure check read the same files (tree/content-memo.ts).
   */
  memo: ContentMemo;
  /** Builds the unpack tools of a packed layer: a build of its own (pipeline/build.ts). */
  toolsLayer(names: string[]): Promise<FileTree>;
}

/** A resolved plan as the cache keeps it, with what else resolving learned. */
export interface CachedPlan {
  plan: Plan;
  requests: PackageRequest[];
  imageIdentity: ImageIdentity;
}

export interface Resolved extends CachedPlan {
  planReused: boolean;
  /** The recipes whose packages are in the plan. */
  recipes: AppliedRecipe[];
}

/**
 * Step 1, the plan: reused while the metadata it came from would be; otherwise resolved in the
 * build container. A self-contained layer may ship a C library, any other is refused one here, and
 * a `--frozen` build stops here when the plan differs from the lock.
 */
export async function resolvePlan(c: BuildContext): Promise<Resolved> {
  const { spec, events, inputs, session } = c;
  const { backend, resolve: ctx, target, runtime, repositories } = inputs;
  const plans = new JsonStore<CachedPlan>(c.paths.plans, 'cache-plan');
  const key = planKey(ctx, spec.packages, session.image);
  const maxAgeMs = DEFAULT_METADATA_MAX_AGE_MINUTES * 60_000;
  const found = spec.refresh ? undefined : plans.get(key);
  if (found && 'damaged' in found) c.diagnostics.warn(droppedLine(`the cached resolved plan (${found.file})`, found.damaged, 'resolving again'));
  const cached = found && 'value' in found && found.ageMs < maxAgeMs ? found : undefined;
  let resolved: CachedPlan;
  if (cached) {
    resolved = cached.value;
    events.step(`resolved plan reused (${Math.round(cached.ageMs / 60_000)} min old; --refresh to resolve again)`);
  } else {
    const runner = await session.get();
    const identity = await session.imageIdentity();
    try {
      const requests = await resolveRanges(runner, ctx, backend, spec.packages, events.detail);
      events.step(
        `resolving ${shortList(
          requests.map((p) => p.name),
          8,
        )}`,
      );
      resolved = { plan: await backend.resolve(runner, ctx, requests, events.detail), requests, imageIdentity: identity };
    } catch (e) {
      if (e instanceof NotFoundError) throw await explainNotFound(e, { backend, c: runner, ctx, metadata: session.metadata, log: events.detail });
      throw e;
    }
    plans.put(key, resolved);
  }
  const { plan } = resolved;
  // a self-contained layer ships its C library on purpose
  if (!spec.from) refuseCLibraryPackage(plan.packages, target.family, runtime.id, target.id);
  events.plan(plan, { target, arch: spec.arch, image: session.image, repositories, runtime: runtime.id, imageIdentity: resolved.imageIdentity });
  if (spec.frozen) {
    for (const note of requireLockedPlan(spec.frozen.locked, plan, { ref: session.image, identity: resolved.imageIdentity }, spec.frozen.label)) events.detail(note);
  }
  return { ...resolved, planReused: !!cached, recipes: applicableRecipes(inputs.recipes, target.family, plan.packages) };
}

export interface Staged {
  tree: FileTree;
  alternatives: StagedRoot['alternatives'];
  /** Packages downloaded by this build (the rest came from the cache). */
  fetched: number;
  /** What the maintainer scripts generated, for the manifest. */
  scripts: ScriptsReport;
  /** Each package's license, read before relocation drops /usr/share/doc. */
  licenses: Map<string, PackageLicense>;
  /** What cannot work on Lambda, left out: one entry per group. */
  unusable: UnusableLeftOut[];
  /**
   * Why the layer lacks what this machine could not make (maintainer scripts or recipe commands
   * skipped: no emulation for the architecture): such a build is not kept for reuse (reuse.ts), so
   * the next one tries again.
   */
  degraded?: string;
}

const SCRIPTS_OFF: ScriptsReport = { skipped: 'off (--no-scripts)', reused: false, generated: [], leftOut: [], normalised: [], failed: [], notes: [], keptState: [] };

/**
 * Step 2, the staged root: packages from the cache, the rest downloaded and unpacked; then what
 * their maintainer scripts and triggers generate (a real installation in a scratch root), the
 * recipes' commands, and what cannot work on Lambda left out.
 */
export async function stagePackages(c: BuildContext, r: Resolved): Promise<Staged> {
  const { spec, events, inputs, session, store, paths, diagnostics } = c;
  const { target, runtime, backend, resolve: ctx } = inputs;
  const warn = (line: string) => diagnostics.warn(line);
  const packages = new PackageCache(paths.packages, store, warn);
  const scriptsOn = spec.scripts !== false;
  const fileLimit = stagedFileLimit(spec.pack ? 'pack' : (spec.output ?? 'layer'));
  let archivesIn: (a: StagedRoot['archives']) => void = () => undefined;
  const archives = new Promise<StagedRoot['archives']>((resolve) => {
    archivesIn = resolve;
  });
  let archivesTaken: () => void = () => undefined;
  const taken = new Promise<void>((resolve) => {
    archivesTaken = resolve;
  });
  const staging = stagePlan({
    plan: r.plan,
    session,
    backend,
    ctx,
    packages,
    events,
    store,
    fileLimit,
    withArchives: scriptsOn && (!spec.local || !!spec.disposable),
    onArchives: (a) => {
      archivesIn(a);
      return scriptsOn ? taken : undefined;
    },
  });
  // while the scripts step waits on its container, one core deflates ahead what the zip will hold
  let scriptsDone = false;
  const ahead = writesZip(spec) ? staging.then((s) => deflateAhead(zipBound(s.tree, spec), deflatedCacheIn(paths.zips, warn), () => scriptsDone)).catch(() => 0) : undefined;
  // the scripts step starts its scratch root while the staging runs, and settles after it
  let scripts: ScriptsReport;
  try {
    scripts = scriptsOn
      ? await runMaintainerScripts({
          plan: r.plan,
          staging,
          archives,
          archivesTaken,
          target,
          runtime,
          arch: spec.arch,
          image: session.image,
          selfContained: !!spec.from,
          scratch: () => session.scratch(spec.arch),
          store,
          cacheDir: paths.scripts,
          events,
          warn,
        })
      : SCRIPTS_OFF;
  } finally {
    archivesTaken();
    // a failed step stops the deflating too (after the file it is on)
    scriptsDone = true;
    await ahead;
  }
  const staged = await staging;
  if (scriptsOn && scripts.skipped) warn(`the packages' maintainer scripts were not run (${scripts.skipped}): the layer lacks what they generate`);
  for (const f of scripts.failed) {
    warn(`a maintainer script of ${f.pkg} failed (${f.why}): what it would have generated is missing; --no-scripts leaves them all out`);
  }
  const postStageSkipped = await runPostStage({
    recipes: r.recipes,
    target,
    arch: spec.arch,
    plan: r.plan,
    staged: staged.tree,
    session,
    events,
    store,
    cacheDir: paths.postStage,
    warn,
    fileLimit,
    // the commands run on the staged root, which holds what the scripts generated
    input: scripts.generated.map((g) => [g.path, g.bytes]),
  });
  const licenses = stagedLicenses(staged.tree, r.plan.packages);
  const keepUnusable = spec.keepUnusable ?? [];
  const unusable = leaveOutUnusable(staged.tree, inputs.unusableGroups, {
    family: target.family,
    requested: r.requests.map((q) => q.name),
    keep: keepUnusable.includes('all') ? 'all' : keepUnusable,
    memo: c.memo,
  });
  const degraded = (scriptsOn ? scripts.skipped : undefined) ?? postStageSkipped;
  return { tree: staged.tree, alternatives: staged.alternatives, fetched: staged.fetched.length, scripts, licenses, unusable, ...(degraded ? { degraded } : {}) };
}

/** Whether the build's layer goes into a zip (not packed, not an image). */
function writesZip(spec: BuildSpec): boolean {
  return (spec.output ?? 'layer') === 'layer' && !spec.pack;
}

/** The staged files relocation will place, by the rules alone (what the scripts keep is not known yet), largest first. */
function zipBound(tree: FileTree, spec: BuildSpec): Content[] {
  const layout: LayoutOptions = { triplet: spec.arch.triplet, keep: spec.keep ?? DEFAULT_KEEP, keptState: [] };
  const files = [...tree.values()].filter((e): e is FileEntry => e.kind === 'file' && place(e.path, layout).kind === 'place');
  return files.sort((a, b) => b.size - a.size).map((e) => e.content);
}

export interface Relocated {
  layer: FileTree;
  report: RelocateReport;
  layout: LayoutOptions;
  /** Optional modules left out because what they load is nowhere (plugins, output drivers). */
  leftOut: Array<LeftOutModule & { package?: string }>;
}

/** Step 3, relocation: the staged root moved under /opt and its paths rewritten; modules that cannot load left out. */
export async function relocateStaged(c: BuildContext, r: Resolved, s: Staged): Promise<Relocated> {
  const { spec, events, inputs, session, store, diagnostics } = c;
  const { runtime, backend, resolve: ctx } = inputs;
  const dependents = attribute(
    r.plan.packages,
    r.plan.packages.map((p) => p.name),
  );
  events.step(`relocating ${plural(s.tree.size, 'path')} under /opt`);
  const layout: LayoutOptions = { triplet: spec.arch.triplet, keep: spec.keep ?? DEFAULT_KEEP, keptState: s.scripts.keptState };
  const { layer, report } = relocate({
    memo: c.memo,
    staged: s.tree,
    layout,
    recipes: r.recipes,
    shell: runtime.shell,
    alternatives: s.alternatives,
    save: (data) => store.save(data),
    dependents: (pkg) => dependents.get(pkg) ?? [],
    selfContained: !!spec.from,
  });
  const modules = leaveOutUnloadableModules(layer, runtime.libraries, runtime, c.memo);
  const moduleSonames = [...new Set(modules.filter((m) => !m.version).map((m) => m.soname))];
  // a hint costs a container: asked only of a package manager already running (a warm build needs none)
  const providers = moduleSonames.length && backend.providers && session.started ? await backend.providers(await session.get(), ctx, moduleSonames) : new Map<string, string>();
  const leftOut = modules.map((m) => ({ ...m, ...(!m.version && providers.get(m.soname) ? { package: providers.get(m.soname)! } : {}) }));
  for (const m of leftOut) {
    diagnostics.warn(
      m.version
        ? `left out ${m.file}: it needs ${m.version} of ${m.soname}, which the ${m.soname} it would load lacks, and no program links to it (a module loaded at run time)`
        : `left out ${m.file}: it needs ${m.soname}, which neither the layer nor the ${runtime.id} runtime has, and no program links to it (a module loaded at run time)` +
            (m.package ? `; add ${m.package} to the packages to keep it` : ''),
    );
  }
  // relocation runs without yielding: a Ctrl-C during it is seen here, before anything follows
  await checkpoint();
  return { layer, report, layout, leftOut };
}

/** Step 4: every shared library the layer needs is in it or in the runtime. */
export function checkRelocatedClosure(c: BuildContext, rel: Relocated): ClosureReport {
  c.events.step('checking that every shared library the layer needs is in the layer or the runtime');
  const closure = checkClosure(rel.layer, c.inputs.runtime.libraries, { runtime: c.inputs.runtime, selfContained: !!c.spec.from, memo: c.memo });
  // files that must be ELF and cannot be read: relocation passed them by, and the check could not look inside
  const unreadable = new Map([...rel.report.binaries.unreadable, ...closure.unreadable].map((u) => [u.file, u.why]));
  for (const [file, why] of unreadable) c.diagnostics.warn(unreadableLine(file, why));
  return closure;
}

/** The warning for a file that must be ELF and is not a readable one. */
export function unreadableLine(file: string, why: string): string {
  return `${file} is ${why}; shipped as it is, neither relocated nor checked: it will fail where it is loaded or run`;
}

export interface Shipped {
  /** What the layer ships: the relocated tree, or its packed form. */
  layer: FileTree;
  packed?: PackReport;
}

/** Step 5 (`--pack`): the tree as one archive, unpacked into /tmp on first use, with the tools that unpack and launch it. */
export async function packIfAsked(c: BuildContext, rel: Relocated): Promise<Shipped> {
  if (!c.spec.pack) return { layer: rel.layer };
  const result = await packLayer({
    layer: rel.layer,
    buildTools: (names) => c.toolsLayer(names),
    runtimePackages: new Set(c.inputs.runtime.packages.map((p) => p.name)),
    runner: () => c.session.get(),
    store: c.store,
    cacheDir: c.paths.packs,
    step: c.events.step,
    warn: (line) => c.diagnostics.warn(line),
    ...(c.events.progress ? { progress: c.events.progress } : {}),
  });
  return { layer: result.layer, packed: result.report };
}

export interface Described {
  manifest: LayerManifest;
  sbom: CycloneDxBom;
  /** Where each file the maintainer scripts generated went in the layer. */
  layerPaths: Map<string, string>;
}

/** Step 6: the layer's manifest and SBOM, written into what it ships (under /opt/.yumda). */
export function describeLayer(c: BuildContext, r: Resolved, s: Staged, rel: Relocated, shipped: Shipped): Described {
  const { spec, inputs } = c;
  const { target, deployTarget, deployRuntime } = inputs;
  const { report, layer, layout } = rel;
  const packed = shipped.packed;
  // where each generated file went (relocation moves and drops them like every other file)
  const layerPaths = new Map<string, string>();
  for (const g of s.scripts.generated) {
    const where = place(g.path, layout);
    if (where.kind === 'place' && layer.has(where.to)) layerPaths.set(g.path, where.to);
  }
  const cLibrary = report.cLibrary;
  const cLibraryPackage = cLibrary && r.plan.packages.find((p) => p.name === cLibrary.package);
  const manifest = layerManifest({
    target: deployTarget.id,
    arch: spec.arch.lambda,
    runtime: deployRuntime.id,
    requested: r.requests.map((p) => (p.version ? `${p.name}=${p.version}` : p.name)),
    packages: r.plan.packages,
    layer,
    // a packed layer's environment moved to /tmp with its tree
    env: packed ? packed.env : report.env,
    rewrittenDirectories: report.binaries.rewrittenDirs,
    recipes: r.recipes.map((x) => x.name),
    leftOut: rel.leftOut,
    unusable: s.unusable,
    generatedByScripts: s.scripts.generated.flatMap((g) =>
      layerPaths.has(g.path) ? [{ file: layerPaths.get(g.path)!, bytes: g.bytes, ...(g.package ? { package: g.package } : {}) }] : [],
    ),
    ...(packed ? { packed: packed.manifest } : {}),
    ...(cLibrary && spec.from
      ? {
          selfContained: {
            from: target.id,
            cLibrary: { package: cLibrary.package, version: cLibraryPackage?.version ?? '', loader: cLibrary.loader },
            interpreter: PRIVATE_INTERPRETER,
            libraryDirs: [...SELF_CONTAINED_LIBRARY_DIRS],
            // its libraries loaded in-process run on the runtime's C library
            inProcess: inProcessUse(layer, deployRuntime),
          },
        }
      : {}),
  });
  putJson(shipped.layer, MANIFEST_PATH, manifest);
  const sbom = layerSbom({
    name: spec.name ?? r.requests[0]!.name,
    manifest,
    distro: target.distro,
    family: target.family,
    licenses: s.licenses,
    checksums: new Map(r.plan.packages.flatMap((p) => (p.checksum ? [[p.name, p.checksum.value] as [string, string]] : []))),
  });
  putJson(shipped.layer, SBOM_PATH, sbom);
  return { manifest, sbom, layerPaths };
}

function putJson(tree: FileTree, file: string, doc: unknown): void {
  const data = Buffer.from(JSON.stringify(doc, null, 2) + '\n');
  addWithParents(tree, { kind: 'file', path: file, mode: 0o644, size: data.length, content: bytes(data) }, '/opt');
}

export interface ClosureVerdict {
  /** Shared libraries shipped ELF files need that neither the layer nor the runtime has, with a package that has each where known. */
  missing: ClosureProblem[];
  /** Symbol versions shipped ELF files need that the library they load lacks. */
  versions: VersionProblem[];
  /** Files that would replace the runtime's C library. */
  cLibrary: string[];
}

/**
 * Step 7: the closure's findings for what the layer ships (a packed layer's unpack tools are
 * checked too), each missing library with the package that has it, for the write gate.
 */
export async function closureVerdict(c: BuildContext, closure: ClosureReport, shipped: Shipped): Promise<ClosureVerdict> {
  const { inputs, spec, session } = c;
  const packedClosure = shipped.packed ? checkClosure(shipped.layer, inputs.runtime.libraries, { runtime: inputs.runtime, selfContained: !!spec.from }) : undefined;
  const problems = [...closure.missing, ...(packedClosure?.missing ?? [])];
  const sonames = [...new Set(problems.map((m) => m.soname))];
  const candidates = sonames.length && inputs.backend.providers ? await inputs.backend.providers(await session.get(), inputs.resolve, sonames) : new Map<string, string>();
  return {
    missing: problems.map((m) => ({ ...m, ...(candidates.get(m.soname) ? { candidate: candidates.get(m.soname)! } : {}) })),
    versions: [...closure.versions, ...(packedClosure?.versions ?? [])],
    cLibrary: [...closure.cLibrary, ...(packedClosure?.cLibrary ?? [])],
  };
}

/** What decides a plan: the same key, the same repository metadata, the same plan. */
function planKey(ctx: ResolveContext, requests: PackageRequest[], image: string): string {
  return sha256(JSON.stringify([toolVersion, ctx.target, ctx.runtime.packages, ctx.arch.lambda, ctx.repositories, ctx.pins ?? [], requests, image]));
}

/**
 * Replaces each request's upstream version range by the newest version the repositories offer
 * that satisfies it, pinned as NAME=VERSION: apt (and dnf) take exact versions, not ranges.
 */
async function resolveRanges(c: Runner, ctx: ResolveContext, backend: Backend, requests: PackageRequest[], log: (l: string) => void): Promise<PackageRequest[]> {
  const out: PackageRequest[] = [];
  for (const r of requests) {
    if (!r.upstream || r.version) {
      out.push(r.version ? { name: r.name, version: r.version } : { name: r.name });
      continue;
    }
    if (!backend.candidates) throw new UserError(`target ${ctx.target.id}: version ranges are not supported for ${ctx.target.packageManager} yet`);
    const versions = await backend.candidates(c, ctx, r.name, log);
    const chosen = pickUpstream(versions, r.upstream);
    if (!chosen) {
      throw new UserError(`no version of '${r.name}' in the ${ctx.target.id} repositories matches the upstream range '${r.upstream}'`, {
        hint: `available: ${versions.join(', ')}`,
      });
    }
    log(`${r.name} ${r.upstream}: ${chosen} (of ${versions.join(', ')})`);
    out.push({ name: r.name, version: chosen });
  }
  return out;
}
