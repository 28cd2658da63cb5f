import type Docker from 'dockerode';
import path from 'node:path';
import { connectEngine } from '../docker/engine.js';
import { buildImage, contextTag, imageExists } from '../docker/images.js';
import { proxyEnv, withContainer, type WorkContainer } from '../docker/container.js';
import { parseArch, type Arch } from '../registry/arch.js';
import { loadRuntime, loadTarget } from '../registry/load.js';
import type { Repository, Runtime, Target } from '../registry/types.js';
import { applicableRecipes, loadRecipes } from '../recipes/load.js';
import type { AppliedRecipe } from '../recipes/types.js';
import { aptBackend, parseAptRepo } from '../resolve/apt.js';
import { STAGE_META_PREFIX, STAGE_OUT, STAGE_ROOT_PREFIX, type Backend, type PackageRequest, type ResolveContext } from '../resolve/backend.js';
import { attribute, type Plan } from '../resolve/plan.js';
import { DEFAULT_KEEP, type KeepOptions } from '../relocate/layout.js';
import { relocate, type RelocateReport } from '../relocate/relocate.js';
import { parseAlternatives } from '../relocate/alternatives.js';
import { checkClosure } from '../verify/closure.js';
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

/**
 * Recipe commands that stand in for maintainer scripts (plugin registries, caches), run on the
 * staged root inside the build container. They execute the packages' own programs, so only when
 * the engine runs the target architecture natively.
 */
async function runPostStage(docker: Docker, c: WorkContainer, recipes: AppliedRecipe[], target: Target, arch: Arch, events: BuildEvents, warnings: string[]): Promise<void> {
  const commands = recipes.flatMap((r) => r.rules.postStage.map((p) => ({ recipe: r.name, run: p.run })));
  if (commands.length === 0) return;
  const engineArch = parseArch(String((await docker.info()).Architecture ?? 'x86_64'));
  if (engineArch.lambda !== arch.lambda) {
    for (const cmd of commands) warnings.push(`recipe ${cmd.recipe}: skipped '${cmd.run}' (it runs the packages' ${arch.lambda} programs; the Docker engine is ${engineArch.lambda})`);
    return;
  }
  const root = `${STAGE_OUT}/root`;
  const libDirs = target.family === 'deb' ? [`${root}/usr/lib/${arch.triplet}`, `${root}/lib/${arch.triplet}`, `${root}/usr/lib`] : [`${root}/usr/lib64`, `${root}/lib64`, `${root}/usr/lib`];
  const env = { ROOT: root, TRIPLET: arch.triplet, LIBDIR: libDirs[0]!, LIBPATH: libDirs.join(':') };
  for (const cmd of commands) {
    events.step(`recipe ${cmd.recipe}: ${cmd.run}`);
    const r = await c.exec(['bash', '-c', cmd.run], { env, onStderrLine: (l) => events.detail(l) });
    if (r.exitCode !== 0) throw new UserError(`recipe ${cmd.recipe}: '${cmd.run}' failed (exit ${r.exitCode}): ${r.stderr.trim().split('\n').pop() ?? ''}`);
  }
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
  const runtime = loadRuntime(target.runtime);
  const recipes = loadRecipes(spec.recipeDirs);
  const backend = backendFor(target);
  const repositories = [...target.repositories, ...parseRepos(target, spec.repos)];

  const docker = await connectEngine();
  const image = await ensureBuildImage(docker, target, spec, events);
  const ctx: ResolveContext = { target, runtime, arch: spec.arch, repositories };

  return withContainer(docker, { image, network: spec.network, env: proxyEnv() }, async (c) => {
    await c.putArchive('/', await tarOf(backend.configFiles(ctx)));
    events.step(`reading the ${target.id} repositories (${spec.arch.lambda})`);
    await backend.refresh(c, ctx, events.detail);
    events.step(`resolving ${spec.packages.map((p) => p.name).join(', ')}`);
    const plan = await backend.resolve(c, ctx, spec.packages, events.detail);
    events.plan(plan, { target, arch: spec.arch, image, repositories });
    const applied = applicableRecipes(recipes, target.family, plan.packages);
    const warnings: string[] = [];
    if (spec.dryRun) return { target, runtime, image, repositories, plan, recipes: applied, warnings };

    events.step(`downloading and unpacking ${plan.packages.length} packages`);
    await backend.stage(c, ctx, plan, events.detail);
    await runPostStage(docker, c, applied, target, spec.arch, events, warnings);
    events.step('copying the staged tree out of the build container');
    const store = new ContentStore(path.join(cacheDir(spec.cacheDir), 'content'));
    const { tree: staged, meta } = await extractTar(await c.getArchive(STAGE_OUT), { rootPrefix: STAGE_ROOT_PREFIX, metaPrefix: STAGE_META_PREFIX, store });
    const owner = ownership(meta);
    for (const e of staged.values()) {
      const pkg = owner.get(e.path);
      if (pkg) e.pkg = pkg;
    }

    const dependents = attribute(plan.packages, plan.packages.map((p) => p.name));
    events.step(`relocating ${staged.size} paths under /opt`);
    const { layer, report } = relocate({
      staged,
      layout: { triplet: spec.arch.triplet, keep: spec.keep ?? DEFAULT_KEEP },
      recipes: applied,
      shell: runtime.shell,
      alternatives: parseAlternatives(meta.get('alternatives') ?? ''),
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
    events.step('checking that every shared library the layer needs is in the layer or the runtime');
    const closure = checkClosure(layer, runtime.libraries);
    const candidates = closure.missing.length && backend.providers ? await backend.providers(c, ctx, [...new Set(closure.missing.map((m) => m.soname))]) : new Map<string, string>();
    const missing: ClosureProblem[] = closure.missing.map((m) => ({ ...m, ...(candidates.get(m.soname) ? { candidate: candidates.get(m.soname)! } : {}) }));
    return { target, runtime, image, repositories, plan, layer, report, manifest, recipes: applied, missing, elfChecked: closure.checked, warnings };
  });
}
