import path from 'node:path';
import { dockerfileBase } from '../docker/images.js';
import { loadRuntime, loadRuntimeFile, loadTarget, loadUnusable } from '../registry/load.js';
import type { Arch } from '../registry/arch.js';
import { optionalRepository, repositoryLocation } from '../registry/repositories.js';
import type { Repository, Runtime, Target } from '../registry/types.js';
import { applicableRecipes, loadRecipes } from '../recipes/load.js';
import type { AppliedRecipe } from '../recipes/types.js';
import { aptBackend, parseAptRepo } from '../backends/apt/resolve.js';
import { parseRpmRepo, rpmBackend } from '../backends/rpm/resolve.js';
import { displayRepoUrl } from '../backends/rpm/helper.js';
import { NotFoundError, type Backend, type PackageRequest, type ResolveContext, type VersionPin } from '../resolve/backend.js';
import { explainNotFound } from '../resolve/not-found.js';
import { pickUpstream } from '../resolve/constraints.js';
import { checkLocked, checkRequest } from '../resolve/names.js';
import { stagedLicenses, type PackageLicense } from '../sbom/licenses.js';
import { layerSbom, type CycloneDxBom } from '../sbom/cyclonedx.js';
import type { ImageIdentity } from '../docker/images.js';
import type { Runner } from '../runner/types.js';
import { attribute, type Plan } from '../resolve/plan.js';
import { DEFAULT_KEEP, place, type KeepOptions } from '../relocate/placement.js';
import { relocate, type RelocateReport } from '../relocate/relocate.js';
import { PRIVATE_INTERPRETER, SELF_CONTAINED_LIBRARY_DIRS } from '../relocate/self-contained.js';
import { inProcessUse } from '../check/in-process.js';
import { checkClosure, leaveOutUnloadableModules } from '../check/closure.js';
import { gateLayer, type ClosureProblem, type GateOptions, type GateReport } from '../check/gate.js';
import type { VersionProblem } from '../check/versions.js';
import { refuseCLibraryPackage } from '../check/c-library.js';
import { cachePaths, ensureCacheDir } from '../cache/paths.js';
import { useCacheForBuild } from '../cache/users.js';
import { checkImageReference } from '../docker/reference.js';
import { ContentStore } from '../cache/content-store.js';
import { droppedLine, JsonStore } from '../cache/json-store.js';
import { PackageCache } from '../cache/packages.js';
import { addWithParents, bytes, type FileTree } from '../tree/types.js';
import { UserError } from '../util/errors.js';
import { shortList } from '../util/format.js';
import { checkpoint } from '../util/cleanup.js';
import { sha256 } from '../util/hash.js';
import { projectRoot } from '../util/paths.js';
import { layerManifest, MANIFEST_PATH, SBOM_PATH, type LayerManifest } from '../format/layer-manifest.js';
import { toolVersion } from '../util/version.js';
import { BuildSession, defaultBuildImage } from '../stage/session.js';
import { runPostStage, stagePlan } from '../stage/staging.js';
import { stagedFileLimit } from '../stage/limits.js';
import { runMaintainerScripts, type ScriptsReport } from '../stage/scripts.js';
import { leaveOutUnusable, type UnusableLeftOut } from '../stage/unusable.js';
import { packLayer, type PackReport } from '../pack/pack.js';
import type { ProgressState } from '../util/progress.js';
import { plural } from '../util/plural.js';

export { defaultBuildImage };

/** Repository metadata, and plans resolved from it, are reused for this long by default. */
export const DEFAULT_METADATA_MAX_AGE_MINUTES = 60;

export interface BuildSpec {
  packages: PackageRequest[];
  target: string;
  arch: Arch;
  /** Use this build image instead of the target's (it must exist in the engine). */
  buildImage?: string | undefined;
  /** Extra repositories (`--repo`), in the package manager's terms. */
  repos: string[];
  /** False: use only `repos`, not the target's own repositories (`--no-default-repos`). */
  defaultRepos?: boolean;
  /** A runtime manifest file to use instead of the target's (`--runtime-manifest`). */
  runtimeManifest?: string | undefined;
  keep: KeepOptions;
  /** Groups of registry/unusable-on-lambda.json to keep after all (`all`: every one). */
  keepUnusable?: readonly string[];
  recipeDirs: string[];
  /** Docker network mode of build containers (`host` where the default bridge has no route). */
  network?: string | undefined;
  cacheDir?: string | undefined;
  /** Fetch repository metadata and resolve again even when the cached ones are fresh. */
  refresh?: boolean;
  /** Stop after resolving: report the plan, build nothing. */
  dryRun?: boolean;
  /** Run the package manager on this machine instead of a build container (a Dockerfile stage). */
  local?: boolean;
  /** With `local`: this machine is a throwaway stage, where the maintainer scripts may install the packages. */
  disposable?: boolean;
  /** Versions to prefer when the closure needs the package (a lock file's). */
  pins?: VersionPin[];
  /** The layer's name in its SBOM (default: the first requested package). */
  name?: string;
  /** Ship the tree as one archive unpacked into /tmp on first use (`--pack`, docs/packed-layers.md). */
  pack?: boolean;
  /**
   * Take the packages from this target's distribution (`--from`) and make a self-contained layer:
   * it carries that distribution's C library and loader, leaves nothing out because the runtime
   * has it, and needs nothing of the runtime but the kernel (relocate/self-contained.ts).
   */
  from?: string | undefined;
  /** What the layer becomes: a zip or a directory (the default), or a container image; it decides the largest file staging takes. */
  output?: 'layer' | 'image';
  /**
   * Run the packages' maintainer scripts and triggers and ship what they generate (default);
   * false (`--no-scripts`): the packages only unpacked, as before (stage/scripts.ts).
   */
  scripts?: boolean;
}

export type { ClosureProblem };

/** What a build will use, known before any container runs: printed first, so a failure still says it. */
export interface BuildSetup {
  target: Target;
  runtime: Runtime;
  arch: Arch;
  image: string;
  /** Where the image comes from: `images/al2023/Dockerfile (FROM …)` or `--build-image`. */
  imageSource: string;
  repositories: Repository[];
}

/** What a build tells its caller as it goes; the CLI turns these into progress output. */
export interface BuildEvents {
  setup?(setup: BuildSetup): void;
  step(title: string): void;
  detail(line: string): void;
  /** Where a long step is (done of total, bytes, rate); `final` for its last state. */
  progress?(state: ProgressState, final: boolean): void;
  /** A problem the build worked around (a damaged cache entry dropped); without it, it goes to `warnings`. */
  warn?(line: string): void;
  plan(plan: Plan, ctx: { target: Target; arch: Arch; image: string; repositories: Repository[]; runtime?: string; imageIdentity: ImageIdentity }): void;
}

export interface BuildResult {
  /** The target the layer is for (what it deploys into). */
  target: Target;
  /** Set for a self-contained layer: the target whose distribution the packages came from. */
  from?: Target;
  arch: Arch;
  runtime: Runtime;
  image: string;
  repositories: Repository[];
  plan: Plan;
  /** Absent for a dry run. */
  layer?: FileTree;
  report?: RelocateReport;
  manifest?: LayerManifest;
  recipes: AppliedRecipe[];
  /** What cannot work on Lambda, left out: one entry per group (absent for a dry run). */
  unusable?: UnusableLeftOut[];
  /** Shared libraries shipped ELF files need that neither the layer nor the runtime has. */
  missing?: ClosureProblem[];
  /** Symbol versions shipped ELF files need that the library they load lacks. */
  versions?: VersionProblem[];
  /** Files that would replace the runtime's C library. */
  cLibrary?: string[];
  /** ELF files the closure check read. */
  elfChecked?: number;
  /** The build image's local ID and registry digests. */
  imageIdentity: ImageIdentity;
  /** The requests as resolved: version ranges replaced by the version chosen. */
  requests: PackageRequest[];
  /** Each package's license, read from the staged tree (absent for a dry run). */
  licenses?: Map<string, PackageLicense>;
  sbom?: CycloneDxBom;
  /** What the caches saved: the plan reused, packages unpacked from the cache. */
  cache: { planReused: boolean; packagesFetched: number; packagesCached: number };
  warnings: string[];
  /** Set for a packed layer: what packing made. */
  packed?: PackReport;
  /** What the maintainer scripts generated and the layer ships (absent for a dry run). */
  scripts?: ScriptsReport & { layerPaths: Map<string, string> };
}

export function backendFor(target: Target): Backend {
  switch (target.packageManager) {
    case 'apt':
      return aptBackend;
    case 'dnf':
    case 'yum':
      return rpmBackend;
    default:
      throw new UserError(`target ${target.id}: package manager ${target.packageManager} is not supported yet`);
  }
}

/**
 * `--repo` arguments (and a manifest's repos) as repositories: a name the target knows (`spal`)
 * enables that optional repository, anything else is a repository of the package manager's form.
 */
export function parseRepos(target: Target, repos: string[]): Repository[] {
  return repos.map((r, i) => {
    const named = optionalRepository(target, r);
    if (named) return named.repository;
    if (/^[a-z][a-z0-9-]*$/.test(r.trim()) && !r.includes('/')) {
      const known = (target.optionalRepositories ?? []).map((o) => o.name);
      throw new UserError(`--repo '${r}': ${target.id} has no repository of that name`, {
        hint: known.length ? `its optional repositories: ${known.join(', ')}; or give a repository URL` : 'give a repository URL',
      });
    }
    if (target.family === 'deb') return parseAptRepo(r, i, target.distro.codename ?? 'stable');
    return parseRpmRepo(r, i);
  });
}

/** `images/al2023/Dockerfile (FROM public.ecr.aws/amazonlinux/amazonlinux:2023)`. */
export function buildImageSource(target: Target): string {
  const dockerfile = path.posix.join(target.buildImage.context, 'Dockerfile');
  const from = dockerfileBase(path.join(projectRoot, target.buildImage.context, 'Dockerfile'));
  return from ? `${dockerfile}, FROM ${from}` : dockerfile;
}

/** The target's runtime manifest, or the one `--runtime-manifest` names (it must be of the target's family). */
function runtimeFor(target: Target, spec: BuildSpec): Runtime {
  if (!spec.runtimeManifest) return loadRuntime(target.runtime);
  const rt = loadRuntimeFile(spec.runtimeManifest);
  if (rt.family !== target.family) {
    const a = (f: string) => (f === 'rpm' ? `an ${f}` : `a ${f}`);
    throw new UserError(`${spec.runtimeManifest}: ${a(rt.family)} runtime cannot be the runtime of ${target.id}, ${a(target.family)} target`);
  }
  return rt;
}

/** How the repositories are shown to people: what the package manager will really fetch. */
export function repositoryLines(target: Target, arch: Arch, repositories: Repository[]): string[] {
  if (target.family === 'rpm') return repositories.map((r) => displayRepoUrl(r, arch.rpm, target.distro.releasever ?? target.distro.version));
  return repositories.map((r) => `${repositoryLocation(r)} ${(r.suites ?? []).join(' ')}`.trimEnd());
}

/** What decides a plan: the same key, the same repository metadata, the same plan. */
function planKey(ctx: ResolveContext, requests: PackageRequest[], image: string): string {
  return sha256(JSON.stringify([toolVersion, ctx.target, ctx.runtime.packages, ctx.arch.lambda, ctx.repositories, ctx.pins ?? [], requests, image]));
}

/** A resolved plan as the cache keeps it, with what else resolving learned. */
export interface CachedPlan {
  plan: Plan;
  requests: PackageRequest[];
  imageIdentity: ImageIdentity;
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

/**
 * What a self-contained layer counts on the runtime for: nothing. The deploy runtime's identity
 * and shell stay (wrappers run there), its packages and libraries go, so the plan keeps the C
 * library and the closure check wants every library in the layer.
 */
function nothingProvided(deploy: Runtime, source: Target): Runtime {
  return { ...deploy, family: source.family, packages: [], libraries: [], symbolVersions: [] };
}

export async function buildLayer(spec: BuildSpec, events: BuildEvents): Promise<BuildResult> {
  if (spec.packages.length === 0) throw new UserError('no packages given');
  const deployTarget = loadTarget(spec.target);
  // the distribution the packages come from: the target's own, or --from's
  const target = spec.from ? loadTarget(spec.from) : deployTarget;
  for (const t of new Set([deployTarget, target])) {
    if (!t.architectures.includes(spec.arch.lambda)) {
      throw new UserError(`target ${t.id} has no ${spec.arch.lambda} build`, { hint: `its architectures: ${t.architectures.join(', ')}` });
    }
  }
  if (spec.buildImage) checkImageReference(spec.buildImage, spec.name ? `buildImage of layer '${spec.name}'` : '--build-image');
  // every way into a build checks these where they come from; this is the last guard before the package manager
  for (const r of spec.packages) checkRequest(target.family, r, spec.name ? `layer '${spec.name}'` : 'package');
  for (const p of spec.pins ?? []) checkLocked(target.family, p, spec.name ? `the lock of layer '${spec.name}'` : 'locked package');
  const deployRuntime = runtimeFor(deployTarget, spec);
  const runtime = spec.from ? nothingProvided(deployRuntime, target) : deployRuntime;
  const recipes = loadRecipes(spec.recipeDirs);
  const unusableGroups = loadUnusable().groups;
  const unknownGroup = (spec.keepUnusable ?? []).find((id) => id !== 'all' && !unusableGroups.some((g) => g.id === id));
  if (unknownGroup !== undefined) {
    throw new UserError(`no group '${unknownGroup}' of what cannot work on Lambda to keep (--keep-unusable, or keep.unusable in a manifest)`, {
      hint: `groups: ${unusableGroups.map((g) => g.id).join(', ')}, or all`,
    });
  }
  const backend = backendFor(target);
  const repositories = [...(spec.defaultRepos === false ? [] : target.repositories), ...parseRepos(target, spec.repos)];
  if (repositories.length === 0) throw new UserError('--no-default-repos leaves no repository: add at least one --repo');
  const ctx: ResolveContext = { target, runtime, arch: spec.arch, repositories, ...(spec.pins?.length ? { pins: spec.pins } : {}) };
  const repoLines = repositoryLines(target, spec.arch, repositories);

  const paths = cachePaths(spec.cacheDir);
  ensureCacheDir(paths.root);
  await useCacheForBuild(paths.root, events.step);
  const store = new ContentStore(paths.content);
  const warnings: string[] = [];
  const warn = (line: string) => (events.warn ? events.warn(line) : warnings.push(line));
  const freshness = { maxAgeMinutes: DEFAULT_METADATA_MAX_AGE_MINUTES, force: !!spec.refresh };
  const session = new BuildSession({
    backend,
    ctx,
    buildImage: spec.buildImage,
    network: spec.network,
    freshness,
    events,
    imageSource: buildImageSource(target),
    repositories: repoLines.join(', '),
    local: !!spec.local,
    disposable: !!spec.disposable,
  });
  events.setup?.({
    target,
    runtime,
    arch: spec.arch,
    image: session.image,
    imageSource: spec.local ? '' : spec.buildImage ? '--build-image' : buildImageSource(target),
    repositories,
  });

  try {
    // 1. the plan: reused while the metadata it came from would be
    const plans = new JsonStore<CachedPlan>(paths.plans, 'cache-plan');
    const key = planKey(ctx, spec.packages, session.image);
    const found = spec.refresh ? undefined : plans.get(key);
    if (found && 'damaged' in found) warn(droppedLine(`the cached resolved plan (${found.file})`, found.damaged, 'resolving again'));
    const cached = found && 'value' in found && found.ageMs < freshness.maxAgeMinutes * 60_000 ? found : undefined;
    let resolved: CachedPlan;
    if (cached) {
      resolved = cached.value;
      events.step(`resolved plan reused (${Math.round(cached.ageMs / 60_000)} min old; --refresh to resolve again)`);
    } else {
      const c = await session.get();
      const identity = await session.imageIdentity();
      try {
        const requests = await resolveRanges(c, ctx, backend, spec.packages, events.detail);
        const names = requests.map((p) => p.name);
        events.step(`resolving ${shortList(names, 8)}`);
        resolved = { plan: await backend.resolve(c, ctx, requests, events.detail), requests, imageIdentity: identity };
      } catch (e) {
        if (e instanceof NotFoundError) throw await explainNotFound(e, { backend, c, ctx, metadata: session.metadata, log: events.detail });
        throw e;
      }
      plans.put(key, resolved);
    }
    const { plan, requests } = resolved;
    // a self-contained layer ships its C library on purpose
    if (!spec.from) refuseCLibraryPackage(plan.packages, target.family, runtime.id, target.id);
    events.plan(plan, { target, arch: spec.arch, image: session.image, repositories, runtime: runtime.id, imageIdentity: resolved.imageIdentity });
    const applied = applicableRecipes(recipes, target.family, plan.packages);
    const base = {
      target: deployTarget,
      ...(spec.from ? { from: target } : {}),
      arch: spec.arch,
      runtime: deployRuntime,
      image: session.image,
      imageIdentity: resolved.imageIdentity,
      repositories,
      plan,
      requests,
      recipes: applied,
      warnings,
    };
    if (spec.dryRun) return { ...base, cache: { planReused: !!cached, packagesFetched: 0, packagesCached: 0 } };

    // 2. the staged root: packages from the cache, the rest downloaded and unpacked
    const packages = new PackageCache(paths.packages, store, warn);
    const scriptsOn = spec.scripts !== false;
    const fileLimit = stagedFileLimit(spec.pack ? 'pack' : (spec.output ?? 'layer'));
    const staged = await stagePlan({ plan, session, backend, ctx, packages, events, store, fileLimit, withArchives: scriptsOn && (!spec.local || !!spec.disposable) });
    // 2b. what the packages' maintainer scripts and triggers generate (a real installation in a scratch root)
    const scripts: ScriptsReport = scriptsOn
      ? await runMaintainerScripts({
          plan,
          staged,
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
      : { skipped: 'off (--no-scripts)', reused: false, generated: [], leftOut: [], normalised: [], failed: [], notes: [], keptState: [] };
    if (scriptsOn && scripts.skipped) warnings.push(`the packages' maintainer scripts were not run (${scripts.skipped}): the layer lacks what they generate`);
    for (const f of scripts.failed) {
      warnings.push(`a maintainer script of ${f.pkg} failed (${f.why}): what it would have generated is missing; --no-scripts leaves them all out`);
    }
    await runPostStage({
      recipes: applied,
      target,
      arch: spec.arch,
      plan,
      staged: staged.tree,
      session,
      events,
      store,
      cacheDir: paths.postStage,
      warnings,
      warn,
      fileLimit,
      // the commands run on the staged root, which holds what the scripts generated
      input: scripts.generated.map((g) => [g.path, g.bytes]),
    });

    // before relocation, which drops /usr/share/doc and with it Debian's copyright files
    const licenses = stagedLicenses(staged.tree, plan.packages);

    // what cannot work on Lambda (GPU drivers, system services), and libraries only it needed
    const keepUnusable = spec.keepUnusable ?? [];
    const unusable = leaveOutUnusable(staged.tree, unusableGroups, {
      family: target.family,
      requested: requests.map((r) => r.name),
      keep: keepUnusable.includes('all') ? 'all' : keepUnusable,
    });

    // 3. relocation
    const dependents = attribute(
      plan.packages,
      plan.packages.map((p) => p.name),
    );
    events.step(`relocating ${plural(staged.tree.size, 'path')} under /opt`);
    const layout = { triplet: spec.arch.triplet, keep: spec.keep ?? DEFAULT_KEEP, keptState: scripts.keptState };
    const { layer, report } = relocate({
      staged: staged.tree,
      layout,
      recipes: applied,
      shell: runtime.shell,
      alternatives: staged.alternatives,
      save: (data) => store.save(data),
      dependents: (pkg) => dependents.get(pkg) ?? [],
      selfContained: !!spec.from,
    });
    // optional modules whose libraries the packages do not bring (plugins, output drivers)
    const modules = leaveOutUnloadableModules(layer, runtime.libraries, runtime);
    const moduleSonames = [...new Set(modules.filter((m) => !m.version).map((m) => m.soname))];
    // a hint costs a container: asked only of a package manager already running (a warm build needs none)
    const moduleProviders =
      moduleSonames.length && backend.providers && session.started ? await backend.providers(await session.get(), ctx, moduleSonames) : new Map<string, string>();
    const leftOut = modules.map((m) => ({ ...m, ...(!m.version && moduleProviders.get(m.soname) ? { package: moduleProviders.get(m.soname)! } : {}) }));
    for (const m of leftOut) {
      warnings.push(
        m.version
          ? `left out ${m.file}: it needs ${m.version} of ${m.soname}, which the ${m.soname} it would load lacks, and no program links to it (a module loaded at run time)`
          : `left out ${m.file}: it needs ${m.soname}, which neither the layer nor the ${runtime.id} runtime has, and no program links to it (a module loaded at run time)` +
              (m.package ? `; add ${m.package} to the packages to keep it` : ''),
      );
    }
    // relocation runs without yielding: a Ctrl-C during it is seen here, before anything follows
    await checkpoint();

    // 4. every shared library the layer needs is in it or in the runtime
    events.step('checking that every shared library the layer needs is in the layer or the runtime');
    const closure = checkClosure(layer, runtime.libraries, { runtime, selfContained: !!spec.from });
    // files that must be ELF and cannot be read: relocation passed them by, and the check could not look inside
    const unreadable = new Map([...report.binaries.unreadable, ...closure.unreadable].map((u) => [u.file, u.why]));
    for (const [file, why] of unreadable) warnings.push(unreadableLine(file, why));

    // 5. packed: the tree as one archive, moved to /tmp, with what unpacks and launches it
    let shipped = layer;
    let packed: PackReport | undefined;
    if (spec.pack) {
      const result = await packLayer({
        layer,
        buildTools: async (names) => toolsLayer(spec, names, events),
        runtimePackages: new Set(runtime.packages.map((p) => p.name)),
        runner: () => session.get(),
        store,
        cacheDir: paths.packs,
        step: events.step,
        warn,
        ...(events.progress ? { progress: events.progress } : {}),
      });
      shipped = result.layer;
      packed = result.report;
    }

    // where each generated file went (relocation moves and drops them like every other file)
    const layerPaths = new Map<string, string>();
    for (const g of scripts.generated) {
      const where = place(g.path, layout);
      if (where.kind === 'place' && layer.has(where.to)) layerPaths.set(g.path, where.to);
    }
    const cLibrary = report.cLibrary;
    const cLibraryPackage = cLibrary && plan.packages.find((p) => p.name === cLibrary.package);
    const manifest = layerManifest({
      target: deployTarget.id,
      arch: spec.arch.lambda,
      runtime: deployRuntime.id,
      requested: requests.map((p) => (p.version ? `${p.name}=${p.version}` : p.name)),
      packages: plan.packages,
      layer,
      // a packed layer's environment moved to /tmp with its tree
      env: packed ? packed.env : report.env,
      rewrittenDirectories: report.binaries.rewrittenDirs,
      recipes: applied.map((r) => r.name),
      leftOut,
      unusable,
      generatedByScripts: scripts.generated.flatMap((g) =>
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
    const data = Buffer.from(JSON.stringify(manifest, null, 2) + '\n');
    addWithParents(shipped, { kind: 'file', path: MANIFEST_PATH, mode: 0o644, size: data.length, content: bytes(data) }, '/opt');
    const sbom = layerSbom({
      name: spec.name ?? requests[0]!.name,
      manifest,
      distro: target.distro,
      family: target.family,
      licenses,
      checksums: new Map(plan.packages.flatMap((p) => (p.checksum ? [[p.name, p.checksum.value] as [string, string]] : []))),
    });
    const sbomData = Buffer.from(JSON.stringify(sbom, null, 2) + '\n');
    addWithParents(shipped, { kind: 'file', path: SBOM_PATH, mode: 0o644, size: sbomData.length, content: bytes(sbomData) }, '/opt');

    // the packed layer's own ELF files (the unpack tools) are checked too
    const packedClosure = packed ? checkClosure(shipped, runtime.libraries, { runtime, selfContained: !!spec.from }) : undefined;
    const problems = [...closure.missing, ...(packedClosure?.missing ?? [])];
    const sonames = [...new Set(problems.map((m) => m.soname))];
    const candidates = sonames.length && backend.providers ? await backend.providers(await session.get(), ctx, sonames) : new Map<string, string>();
    const missing: ClosureProblem[] = problems.map((m) => ({ ...m, ...(candidates.get(m.soname) ? { candidate: candidates.get(m.soname)! } : {}) }));
    return {
      ...base,
      layer: shipped,
      report,
      ...(packed ? { packed } : {}),
      manifest,
      licenses,
      sbom,
      unusable,
      missing,
      versions: [...closure.versions, ...(packedClosure?.versions ?? [])],
      cLibrary: [...closure.cLibrary, ...(packedClosure?.cLibrary ?? [])],
      elfChecked: closure.checked,
      scripts: { ...scripts, layerPaths },
      cache: { planReused: !!cached, packagesFetched: staged.fetched.length, packagesCached: plan.packages.length - staged.fetched.length },
    };
  } finally {
    await session.close();
  }
}

/** The warning for a file that must be ELF and is not a readable one. */
export function unreadableLine(file: string, why: string): string {
  return `${file} is ${why}; shipped as it is, neither relocated nor checked: it will fail where it is loaded or run`;
}

/**
 * The unpack tools of a packed layer: `yumda install tar zstd` (those the runtime lacks) for the
 * same target, architecture and runtime, a layer of its own, closure-checked: a tool that misses a
 * library would fail on Lambda's first call.
 */
async function toolsLayer(spec: BuildSpec, names: string[], events: BuildEvents): Promise<FileTree> {
  const r = await buildLayer(
    // for a self-contained layer they are self-contained too (packing gives them their own loader
    // among their libraries): the layer then needs nothing of the runtime but the kernel and a shell;
    // tar and zstd need nothing their scripts would generate
    { ...spec, packages: names.map((name) => ({ name })), pack: false, pins: [], keepUnusable: [], name: 'yumda-unpack-tools', dryRun: false, scripts: false },
    { step: (t) => events.detail(`unpack tools: ${t}`), detail: () => undefined, warn: events.warn, plan: () => undefined },
  );
  if (r.missing?.length) {
    throw new UserError(`cannot pack the layer: the unpack tools need ${[...new Set(r.missing.map((m) => m.soname))].join(', ')}, which neither they nor the runtime have`);
  }
  return r.layer ?? new Map();
}

/** A built layer through the write gate (check/gate.ts): what every command that writes one calls. */
export function gateBuild(r: BuildResult, opts: GateOptions, warn: (line: string) => void): GateReport {
  if (!r.layer) throw new Error('gateBuild: a dry run has no layer');
  return gateLayer(
    {
      layer: r.layer,
      missing: r.missing ?? [],
      versions: r.versions ?? [],
      cLibrary: r.cLibrary ?? [],
      warnings: r.warnings,
      runtimeId: r.runtime.id,
      // the target's own runtime lacks what is needed, so it is no way out; under another runtime (--runtime-manifest) it may be
      ...(r.runtime.id === r.target.runtime ? { targetId: r.target.id } : {}),
      packable: !r.packed,
    },
    opts,
    warn,
  );
}
