import path from 'node:path';
import { dockerfileBase } from '../docker/images.js';
import { checkImageReference } from '../docker/reference.js';
import { loadRuntime, loadRuntimeFile, loadTarget, loadUnusable } from '../registry/load.js';
import type { Arch } from '../registry/arch.js';
import { optionalRepository, repositoryLocation } from '../registry/repositories.js';
import type { Repository, Runtime, Target, UnusableGroup } from '../registry/types.js';
import { loadRecipes } from '../recipes/load.js';
import type { Recipe } from '../recipes/types.js';
import { aptBackend, parseAptRepo } from '../backends/apt/resolve.js';
import { parseRpmRepo, rpmBackend } from '../backends/rpm/resolve.js';
import { displayRepoUrl } from '../backends/rpm/helper.js';
import type { Backend, ResolveContext } from '../resolve/backend.js';
import { checkLocked, checkRequest } from '../resolve/names.js';
import { UserError } from '../util/errors.js';
import { projectRoot } from '../util/paths.js';
import type { BuildSpec } from './spec.js';

/**
 * What a build works from, read and checked before any container starts: a bad name, target,
 * group or repository fails here in one line, and nothing after this step re-validates.
 */
export interface BuildInputs {
  /** The target the layer is for (what it deploys into). */
  deployTarget: Target;
  /** The distribution the packages come from: the deploy target's own, or --from's. */
  target: Target;
  deployRuntime: Runtime;
  /** What resolving and the closure count on the runtime for: nothing, for a self-contained layer. */
  runtime: Runtime;
  recipes: Recipe[];
  unusableGroups: UnusableGroup[];
  backend: Backend;
  repositories: Repository[];
  resolve: ResolveContext;
}

export function readInputs(spec: BuildSpec): BuildInputs {
  if (spec.packages.length === 0) throw new UserError('no packages given');
  const deployTarget = loadTarget(spec.target);
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
  const resolve: ResolveContext = { target, runtime, arch: spec.arch, repositories, ...(spec.pins?.length ? { pins: spec.pins } : {}) };
  return { deployTarget, target, deployRuntime, runtime, recipes, unusableGroups, backend, repositories, resolve };
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

/** How the repositories are shown to people: what the package manager will really fetch. */
export function repositoryLines(target: Target, arch: Arch, repositories: Repository[]): string[] {
  if (target.family === 'rpm') return repositories.map((r) => displayRepoUrl(r, arch.rpm, target.distro.releasever ?? target.distro.version));
  return repositories.map((r) => `${repositoryLocation(r)} ${(r.suites ?? []).join(' ')}`.trimEnd());
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

/**
 * What a self-contained layer counts on the runtime for: nothing. The deploy runtime's identity
 * and shell stay (wrappers run there), its packages and libraries go, so the plan keeps the C
 * library and the closure check wants every library in the layer.
 */
function nothingProvided(deploy: Runtime, source: Target): Runtime {
  return { ...deploy, family: source.family, packages: [], libraries: [], symbolVersions: [] };
}
