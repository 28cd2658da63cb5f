import { loadRuntime, loadTarget } from '../registry/load.js';
import type { Arch } from '../registry/arch.js';
import type { Repository, Runtime, Target } from '../registry/types.js';
import { applicableRecipes, loadRecipes } from '../recipes/load.js';
import type { AppliedRecipe } from '../recipes/types.js';
import { aptBackend, parseAptRepo } from '../resolve/apt.js';
import type { Backend, PackageRequest, ResolveContext } from '../resolve/backend.js';
import { attribute, type Plan } from '../resolve/plan.js';
import { DEFAULT_KEEP, type KeepOptions } from '../relocate/layout.js';
import { relocate, type RelocateReport } from '../relocate/relocate.js';
import { checkClosure } from '../verify/closure.js';
import { cachePaths } from '../cache/layout.js';
import { ContentStore } from '../cache/content-store.js';
import { JsonStore } from '../cache/json-store.js';
import { PackageCache } from '../cache/packages.js';
import { addWithParents, bytes, type FileTree } from '../tree/types.js';
import { UserError } from '../util/errors.js';
import { sha256 } from '../util/hash.js';
import { layerManifest, MANIFEST_PATH, toolVersion, type LayerManifest } from './manifest.js';
import { BuildSession } from './session.js';
import { runPostStage, stagePlan } from './stage.js';

export { defaultBuildImage } from './session.js';

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
  keep: KeepOptions;
  recipeDirs: string[];
  /** Docker network mode of build containers (`host` where the default bridge has no route). */
  network?: string | undefined;
  cacheDir?: string | undefined;
  /** Fetch repository metadata and resolve again even when the cached ones are fresh. */
  refresh?: boolean;
  /** Stop after resolving: report the plan, build nothing. */
  dryRun?: boolean;
}

export interface ClosureProblem {
  file: string;
  soname: string;
  /** A package of the target's repositories that probably provides it. */
  candidate?: string;
}

/** What a build tells its caller as it goes; the CLI turns these into progress output. */
export interface BuildEvents {
  step(title: string): void;
  detail(line: string): void;
  plan(plan: Plan, ctx: { target: Target; arch: Arch; image: string; repositories: Repository[] }): void;
}

export interface BuildResult {
  target: Target;
  runtime: Runtime;
  image: string;
  repositories: Repository[];
  plan: Plan;
  /** Absent for a dry run. */
  layer?: FileTree;
  report?: RelocateReport;
  manifest?: LayerManifest;
  recipes: AppliedRecipe[];
  /** Shared libraries shipped ELF files need that neither the layer nor the runtime has. */
  missing?: ClosureProblem[];
  /** ELF files the closure check read. */
  elfChecked?: number;
  /** What the caches saved: the plan reused, packages unpacked from the cache. */
  cache: { planReused: boolean; packagesFetched: number; packagesCached: number };
  warnings: string[];
}

function backendFor(target: Target): Backend {
  switch (target.packageManager) {
    case 'apt':
      return aptBackend;
    default:
      throw new UserError(`target ${target.id}: package manager ${target.packageManager} is not supported yet`);
  }
}

export function parseRepos(target: Target, repos: string[]): Repository[] {
  return repos.map((r, i) => {
    if (target.family === 'deb') return parseAptRepo(r, i, target.distro.codename ?? 'stable');
    throw new UserError(`--repo is not supported for ${target.id} yet`);
  });
}

/** What decides a plan: the same key, the same repository metadata, the same plan. */
function planKey(ctx: ResolveContext, requests: PackageRequest[], image: string): string {
  return sha256(JSON.stringify([toolVersion, ctx.target, ctx.runtime.packages, ctx.arch.lambda, ctx.repositories, requests, image]));
}

export async function buildLayer(spec: BuildSpec, events: BuildEvents): Promise<BuildResult> {
  if (spec.packages.length === 0) throw new UserError('no packages given');
  const target = loadTarget(spec.target);
  if (!target.architectures.includes(spec.arch.lambda)) {
    throw new UserError(`target ${target.id} has no ${spec.arch.lambda} build`, { hint: `its architectures: ${target.architectures.join(', ')}` });
  }
  const runtime = loadRuntime(target.runtime);
  const recipes = loadRecipes(spec.recipeDirs);
  const backend = backendFor(target);
  const repositories = [...target.repositories, ...parseRepos(target, spec.repos)];
  const ctx: ResolveContext = { target, runtime, arch: spec.arch, repositories };
  const paths = cachePaths(spec.cacheDir);
  const store = new ContentStore(paths.content);
  const freshness = { maxAgeMinutes: DEFAULT_METADATA_MAX_AGE_MINUTES, force: !!spec.refresh };
  const session = new BuildSession({ backend, ctx, buildImage: spec.buildImage, network: spec.network, freshness, events });

  try {
    // 1. the plan: reused while the metadata it came from would be
    const plans = new JsonStore<Plan>(paths.plans);
    const key = planKey(ctx, spec.packages, session.image);
    const found = spec.refresh ? undefined : plans.get(key);
    const cached = found && found.ageMs < freshness.maxAgeMinutes * 60_000 ? found : undefined;
    let plan: Plan;
    if (cached) {
      plan = cached.value;
      events.step(`resolved plan reused (${Math.round(cached.ageMs / 60_000)} min old; --refresh to resolve again)`);
    } else {
      const c = await session.get();
      events.step(`resolving ${spec.packages.map((p) => p.name).join(', ')}`);
      plan = await backend.resolve(c, ctx, spec.packages, events.detail);
      plans.put(key, plan);
    }
    events.plan(plan, { target, arch: spec.arch, image: session.image, repositories });
    const applied = applicableRecipes(recipes, target.family, plan.packages);
    const warnings: string[] = [];
    const base = { target, runtime, image: session.image, repositories, plan, recipes: applied, warnings };
    if (spec.dryRun) return { ...base, cache: { planReused: !!cached, packagesFetched: 0, packagesCached: 0 } };

    // 2. the staged root: packages from the cache, the rest downloaded and unpacked
    const packages = new PackageCache(paths.packages, store);
    const staged = await stagePlan({ plan, session, backend, ctx, packages, events, store });
    await runPostStage({ recipes: applied, target, arch: spec.arch, plan, staged: staged.tree, session, events, store, cacheDir: paths.postStage, warnings });

    // 3. relocation
    const dependents = attribute(plan.packages, plan.packages.map((p) => p.name));
    events.step(`relocating ${staged.tree.size} paths under /opt`);
    const { layer, report } = relocate({
      staged: staged.tree,
      layout: { triplet: spec.arch.triplet, keep: spec.keep ?? DEFAULT_KEEP },
      recipes: applied,
      shell: runtime.shell,
      alternatives: staged.alternatives,
      save: (data) => ({ kind: 'file', hostPath: store.put(data).hostPath }),
      dependents: (pkg) => dependents.get(pkg) ?? [],
    });
    const manifest = layerManifest({
      target: target.id,
      arch: spec.arch.lambda,
      runtime: runtime.id,
      requested: spec.packages.map((p) => (p.version ? `${p.name}=${p.version}` : p.name)),
      plan,
      layer,
      report,
      recipes: applied.map((r) => r.name),
    });
    const data = Buffer.from(JSON.stringify(manifest, null, 2) + '\n');
    addWithParents(layer, { kind: 'file', path: MANIFEST_PATH, mode: 0o644, size: data.length, content: bytes(data) }, '/opt');

    // 4. every shared library the layer needs is in it or in the runtime
    events.step('checking that every shared library the layer needs is in the layer or the runtime');
    const closure = checkClosure(layer, runtime.libraries);
    const sonames = [...new Set(closure.missing.map((m) => m.soname))];
    const candidates = sonames.length && backend.providers ? await backend.providers(await session.get(), ctx, sonames) : new Map<string, string>();
    const missing: ClosureProblem[] = closure.missing.map((m) => ({ ...m, ...(candidates.get(m.soname) ? { candidate: candidates.get(m.soname)! } : {}) }));
    return {
      ...base,
      layer,
      report,
      manifest,
      missing,
      elfChecked: closure.checked,
      cache: { planReused: !!cached, packagesFetched: staged.fetched.length, packagesCached: plan.packages.length - staged.fetched.length },
    };
  } finally {
    await session.close();
  }
}
