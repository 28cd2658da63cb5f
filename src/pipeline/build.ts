import type Docker from 'dockerode';
import path from 'node:path';
import { connectEngine } from '../docker/engine.js';
import { buildImage, contextTag, imageExists } from '../docker/images.js';
import { proxyEnv, withContainer } from '../docker/container.js';
import type { Arch } from '../registry/arch.js';
import { loadRuntime, loadTarget } from '../registry/load.js';
import type { Repository, Runtime, Target } from '../registry/types.js';
import { applicableRecipes, loadRecipes } from '../recipes/load.js';
import type { AppliedRecipe } from '../recipes/types.js';
import { aptBackend, parseAptRepo } from '../resolve/apt.js';
import { STAGE_META_PREFIX, STAGE_OUT, STAGE_ROOT_PREFIX, type Backend, type PackageRequest, type ResolveContext } from '../resolve/backend.js';
import type { Plan } from '../resolve/plan.js';
import { DEFAULT_KEEP, type KeepOptions } from '../relocate/layout.js';
import { relocate, type RelocateReport } from '../relocate/relocate.js';
import { localDescription, withLocalRunner } from '../runner/local.js';
import type { Runner } from '../runner/types.js';
import { extractTar } from '../stage/extract.js';
import { ContentStore } from '../stage/store.js';
import { addWithParents, bytes, type FileTree } from '../tree/types.js';
import { cacheDir } from '../util/cache.js';
import { UserError } from '../util/errors.js';
import { normalizeAbsolute, projectRoot } from '../util/paths.js';
import { layerManifest, MANIFEST_PATH, type LayerManifest } from './manifest.js';
import { tarOf } from './tarball.js';

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
  /** Stop after resolving: report the plan, build nothing. */
  dryRun?: boolean;
  /** Run the package manager on this machine instead of a build container (a Dockerfile stage). */
  local?: boolean;
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

/** The build image a target uses: its Dockerfile context's content decides the tag. */
export function defaultBuildImage(target: Target): string {
  return `${target.buildImage.name}:${contextTag(path.join(projectRoot, target.buildImage.context))}`;
}

async function ensureBuildImage(docker: Docker, target: Target, spec: BuildSpec, events: BuildEvents): Promise<string> {
  if (spec.buildImage) {
    if (!(await imageExists(docker, spec.buildImage))) {
      throw new UserError(`build image ${spec.buildImage} (from --build-image) is not in the Docker engine`, { hint: 'build or pull it first' });
    }
    return spec.buildImage;
  }
  const ref = defaultBuildImage(target);
  if (!(await imageExists(docker, ref))) {
    events.step(`building the ${target.id} build image ${ref} from ${target.buildImage.context} (first time only)`);
    await buildImage(docker, ref, path.join(projectRoot, target.buildImage.context), {
      network: spec.network,
      buildArgs: proxyEnv(),
      onLine: (l) => events.detail(l),
    });
  }
  return ref;
}

/** Which package each staged path belongs to, from the per-package file lists. */
function ownership(meta: Map<string, string>): Map<string, string> {
  const owner = new Map<string, string>();
  for (const [name, text] of meta) {
    if (!name.endsWith('.files')) continue;
    const pkg = name.slice(0, -'.files'.length);
    for (const line of text.split('\n')) {
      const p = line.trim();
      if (!p || p === './') continue;
      const abs = normalizeAbsolute(p.replace(/^\.\//, ''));
      if (!owner.has(abs)) owner.set(abs, pkg);
    }
  }
  return owner;
}

/** Where the package manager runs: a container of the build image, or this machine with `local`. */
async function withRunner<T>(spec: BuildSpec, target: Target, events: BuildEvents, fn: (c: Runner, image: string) => Promise<T>): Promise<T> {
  if (spec.local) return withLocalRunner(target, (c) => fn(c, localDescription(target)));
  const docker = await connectEngine();
  const image = await ensureBuildImage(docker, target, spec, events);
  return withContainer(docker, { image, network: spec.network, env: proxyEnv() }, (c) => fn(c, image));
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

  return withRunner(spec, target, events, async (c, image) => {
    await c.putArchive('/', await tarOf(backend.configFiles(ctx)));
    events.step(`reading the ${target.id} repositories (${spec.arch.lambda})`);
    await backend.refresh(c, ctx, events.detail);
    events.step(`resolving ${spec.packages.map((p) => p.name).join(', ')}`);
    const plan = await backend.resolve(c, ctx, spec.packages, events.detail);
    events.plan(plan, { target, arch: spec.arch, image, repositories });
    const applied = applicableRecipes(recipes, target.family, plan.packages);
    if (spec.dryRun) return { target, runtime, image, repositories, plan, recipes: applied };

    events.step(`downloading and unpacking ${plan.packages.length} packages`);
    await backend.stage(c, ctx, plan, events.detail);
    events.step('copying the staged tree out of the build container');
    const store = new ContentStore(path.join(cacheDir(spec.cacheDir), 'content'));
    const { tree: staged, meta } = await extractTar(await c.getArchive(STAGE_OUT), { rootPrefix: STAGE_ROOT_PREFIX, metaPrefix: STAGE_META_PREFIX, store });
    const owner = ownership(meta);
    for (const e of staged.values()) {
      const pkg = owner.get(e.path);
      if (pkg) e.pkg = pkg;
    }

    events.step(`relocating ${staged.size} paths under /opt`);
    const { layer, report } = relocate({ staged, layout: { triplet: spec.arch.triplet, keep: spec.keep ?? DEFAULT_KEEP }, recipes: applied, shell: runtime.shell });
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
    return { target, runtime, image, repositories, plan, layer, report, manifest, recipes: applied };
  });
}
