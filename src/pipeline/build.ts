import type Docker from 'dockerode';
import path from 'node:path';
import { connectEngine } from '../docker/engine.js';
import { buildImage, contextTag, dockerfileBase, imageExists } from '../docker/images.js';
import { proxyEnv, withContainer } from '../docker/container.js';
import type { Arch } from '../registry/arch.js';
import { loadRuntime, loadRuntimeFile, loadTarget } from '../registry/load.js';
import type { Repository, Runtime, Target } from '../registry/types.js';
import { applicableRecipes, loadRecipes } from '../recipes/load.js';
import type { AppliedRecipe } from '../recipes/types.js';
import { aptBackend, parseAptRepo } from '../resolve/apt.js';
import { displayRepoUrl, dnfBackend, parseRpmRepo, yumBackend } from '../resolve/rpm.js';
import { STAGE_META_PREFIX, STAGE_OUT, STAGE_ROOT_PREFIX, type Backend, type PackageRequest, type ResolveContext } from '../resolve/backend.js';
import type { Plan } from '../resolve/plan.js';
import { DEFAULT_KEEP, type KeepOptions } from '../relocate/layout.js';
import { relocate, type RelocateReport } from '../relocate/relocate.js';
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
  /** False: use only `repos`, not the target's own repositories (`--no-default-repos`). */
  defaultRepos?: boolean;
  keep: KeepOptions;
  recipeDirs: string[];
  /** Docker network mode of build containers (`host` where the default bridge has no route). */
  network?: string | undefined;
  cacheDir?: string | undefined;
  /** Stop after resolving: report the plan, build nothing. */
  dryRun?: boolean;
  /** A runtime manifest file to use instead of the target's (`--runtime-manifest`). */
  runtimeManifest?: string | undefined;
}

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
  plan(plan: Plan, ctx: { target: Target; arch: Arch; image: string; repositories: Repository[]; runtime?: string }): void;
}

export interface BuildResult {
  target: Target;
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
}

function backendFor(target: Target): Backend {
  switch (target.packageManager) {
    case 'apt':
      return aptBackend;
    case 'dnf':
      return dnfBackend;
    case 'yum':
      return yumBackend;
    default:
      throw new UserError(`target ${target.id}: package manager ${target.packageManager} is not supported yet`);
  }
}

export function parseRepos(target: Target, repos: string[]): Repository[] {
  return repos.map((r, i) => {
    if (target.family === 'deb') return parseAptRepo(r, i, target.distro.codename ?? 'stable');
    return parseRpmRepo(r, i);
  });
}

/** The build image a target uses: its Dockerfile context's content decides the tag. */
export function defaultBuildImage(target: Target): string {
  return `${target.buildImage.name}:${contextTag(path.join(projectRoot, target.buildImage.context))}`;
}

/** `images/al2023/Dockerfile (FROM public.ecr.aws/amazonlinux/amazonlinux:2023)`. */
export function buildImageSource(target: Target): string {
  const dockerfile = path.posix.join(target.buildImage.context, 'Dockerfile');
  const from = dockerfileBase(path.join(projectRoot, target.buildImage.context, 'Dockerfile'));
  return from ? `${dockerfile}, FROM ${from}` : dockerfile;
}

async function ensureBuildImage(docker: Docker, target: Target, spec: BuildSpec, events: BuildEvents, repositories: string): Promise<string> {
  if (spec.buildImage) {
    if (!(await imageExists(docker, spec.buildImage))) {
      throw new UserError(`build image ${spec.buildImage} (from --build-image) is not in the Docker engine`, { hint: 'build or pull it first' });
    }
    return spec.buildImage;
  }
  const ref = defaultBuildImage(target);
  if (!(await imageExists(docker, ref))) {
    events.step(`building the ${target.id} build image ${ref} from ${buildImageSource(target)} (first time only)`);
    try {
      await buildImage(docker, ref, path.join(projectRoot, target.buildImage.context), {
        network: spec.network,
        buildArgs: proxyEnv(),
        onLine: (l) => events.detail(l),
      });
    } catch (e) {
      if (!(e instanceof UserError)) throw e;
      const from = dockerfileBase(path.join(projectRoot, target.buildImage.context, 'Dockerfile'));
      throw new UserError(`cannot build the ${target.id} build image ${ref} (${buildImageSource(target)}): ${e.message.replace(/^building image \S+ from \S+ failed: /, '').split('\n')[0]}`, {
        hint:
          `it would resolve packages from ${repositories}; ` +
          (from ? `${from} must be reachable (or already in the engine), or pass an image with the package manager as --build-image` : 'check the Dockerfile, or pass --build-image'),
      });
    }
  }
  return ref;
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
  return repositories.map((r) => `${r.url} ${(r.suites ?? []).join(' ')}`.trimEnd());
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

export async function buildLayer(spec: BuildSpec, events: BuildEvents): Promise<BuildResult> {
  if (spec.packages.length === 0) throw new UserError('no packages given');
  const target = loadTarget(spec.target);
  if (!target.architectures.includes(spec.arch.lambda)) {
    throw new UserError(`target ${target.id} has no ${spec.arch.lambda} build`, { hint: `its architectures: ${target.architectures.join(', ')}` });
  }
  const runtime = runtimeFor(target, spec);
  const recipes = loadRecipes(spec.recipeDirs);
  const backend = backendFor(target);
  const repositories = [...(spec.defaultRepos === false ? [] : target.repositories), ...parseRepos(target, spec.repos)];
  if (repositories.length === 0) throw new UserError('--no-default-repos leaves no repository: add at least one --repo');
  const planned = spec.buildImage ?? defaultBuildImage(target);
  events.setup?.({ target, runtime, arch: spec.arch, image: planned, imageSource: spec.buildImage ? '--build-image' : buildImageSource(target), repositories });

  const docker = await connectEngine();
  const image = await ensureBuildImage(docker, target, spec, events, repositoryLines(target, spec.arch, repositories).join(', '));
  const ctx: ResolveContext = { target, runtime, arch: spec.arch, repositories };

  return withContainer(docker, { image, network: spec.network, env: proxyEnv() }, async (c) => {
    await c.putArchive('/', await tarOf(backend.configFiles(ctx)));
    events.step(`reading the ${target.id} repositories (${spec.arch.lambda})`);
    await backend.refresh(c, ctx, events.detail);
    events.step(`resolving ${spec.packages.map((p) => p.name).join(', ')}`);
    const plan = await backend.resolve(c, ctx, spec.packages, events.detail);
    events.plan(plan, { target, arch: spec.arch, image, repositories, runtime: runtime.id });
    const applied = applicableRecipes(recipes, target.family, plan.packages);
    if (spec.dryRun) return { target, arch: spec.arch, runtime, image, repositories, plan, recipes: applied };

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
    return { target, arch: spec.arch, runtime, image, repositories, plan, layer, report, manifest, recipes: applied };
  });
}
