import type Docker from 'dockerode';
import path from 'node:path';
import { connectEngine } from '../docker/engine.js';
import { buildImage, contextTag, imageExists, imageIdentity, type ImageIdentity } from '../docker/images.js';
import { proxyEnv, withContainer, type WorkContainer } from '../docker/container.js';
import type { Arch } from '../registry/arch.js';
import { loadRuntime, loadTarget } from '../registry/load.js';
import type { Repository, Runtime, Target } from '../registry/types.js';
import { applicableRecipes, loadRecipes } from '../recipes/load.js';
import type { AppliedRecipe } from '../recipes/types.js';
import { aptBackend, parseAptRepo } from '../resolve/apt.js';
import { STAGE_META_PREFIX, STAGE_OUT, STAGE_ROOT_PREFIX, type Backend, type PackageRequest, type ResolveContext, type VersionPin } from '../resolve/backend.js';
import { pickUpstream } from '../resolve/constraints.js';
import { stagedLicenses, type PackageLicense } from '../sbom/licenses.js';
import { layerSbom, SBOM_PATH, type CycloneDxBom } from '../sbom/cyclonedx.js';
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
  keep: KeepOptions;
  recipeDirs: string[];
  /** Docker network mode of build containers (`host` where the default bridge has no route). */
  network?: string | undefined;
  cacheDir?: string | undefined;
  /** Stop after resolving: report the plan, build nothing. */
  dryRun?: boolean;
  /** Versions to prefer when the closure needs the package (a lock file's). */
  pins?: VersionPin[];
  /** The layer's name in its SBOM (default: the first requested package). */
  name?: string;
}

/** What a build tells its caller as it goes; the CLI turns these into progress output. */
export interface BuildEvents {
  step(title: string): void;
  detail(line: string): void;
  plan(plan: Plan, ctx: { target: Target; arch: Arch; image: string; repositories: Repository[]; imageIdentity: ImageIdentity }): void;
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
  /** The build image's local ID and registry digests. */
  imageIdentity: ImageIdentity;
  /** The requests as resolved: version ranges replaced by the version chosen. */
  requests: PackageRequest[];
  /** Each package's license, read from the staged tree (absent for a dry run). */
  licenses?: Map<string, PackageLicense>;
  sbom?: CycloneDxBom;
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
  const identity = await imageIdentity(docker, image);
  const ctx: ResolveContext = { target, runtime, arch: spec.arch, repositories, ...(spec.pins?.length ? { pins: spec.pins } : {}) };

  return withContainer(docker, { image, network: spec.network, env: proxyEnv() }, async (c) => {
    await c.putArchive('/', await tarOf(backend.configFiles(ctx)));
    events.step(`reading the ${target.id} repositories (${spec.arch.lambda})`);
    await backend.refresh(c, ctx, events.detail);
    const requests = await resolveRanges(c, ctx, backend, spec.packages, events.detail);
    events.step(`resolving ${requests.map((p) => p.name).join(', ')}`);
    const plan = await backend.resolve(c, ctx, requests, events.detail);
    events.plan(plan, { target, arch: spec.arch, image, repositories, imageIdentity: identity });
    const applied = applicableRecipes(recipes, target.family, plan.packages);
    const common = { target, runtime, image, imageIdentity: identity, repositories, plan, recipes: applied, requests };
    if (spec.dryRun) return common;

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
    // before relocation, which drops /usr/share/doc and with it Debian's copyright files
    const licenses = stagedLicenses(staged, plan.packages);

    events.step(`relocating ${staged.size} paths under /opt`);
    const { layer, report } = relocate({ staged, layout: { triplet: spec.arch.triplet, keep: spec.keep ?? DEFAULT_KEEP }, recipes: applied, shell: runtime.shell });
    const manifest = layerManifest({
      target: target.id,
      arch: spec.arch.lambda,
      runtime: runtime.id,
      requested: requests.map((p) => (p.version ? `${p.name}=${p.version}` : p.name)),
      plan,
      layer,
      report,
      recipes: applied.map((r) => r.name),
    });
    const data = Buffer.from(JSON.stringify(manifest, null, 2) + '\n');
    addWithParents(layer, { kind: 'file', path: MANIFEST_PATH, mode: 0o644, size: data.length, content: bytes(data) }, '/opt');
    const sbom = layerSbom({
      name: spec.name ?? requests[0]!.name,
      manifest,
      distro: target.distro,
      family: target.family,
      licenses,
      checksums: new Map(plan.packages.flatMap((p) => (p.checksum ? [[p.name, p.checksum.value] as [string, string]] : []))),
    });
    const sbomData = Buffer.from(JSON.stringify(sbom, null, 2) + '\n');
    addWithParents(layer, { kind: 'file', path: SBOM_PATH, mode: 0o644, size: sbomData.length, content: bytes(sbomData) }, '/opt');
    return { ...common, layer, report, manifest, licenses, sbom };
  });
}

/**
 * Replaces each request's upstream version range by the newest version the repositories offer
 * that satisfies it, pinned as NAME=VERSION: apt (and dnf) take exact versions, not ranges.
 */
async function resolveRanges(c: WorkContainer, ctx: ResolveContext, backend: Backend, requests: PackageRequest[], log: (l: string) => void): Promise<PackageRequest[]> {
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
      throw new UserError(`no version of '${r.name}' in the ${ctx.target.id} repositories matches the upstream range '${r.upstream}'`, { hint: `available: ${versions.join(', ')}` });
    }
    log(`${r.name} ${r.upstream}: ${chosen} (of ${versions.join(', ')})`);
    out.push({ name: r.name, version: chosen });
  }
  return out;
}
