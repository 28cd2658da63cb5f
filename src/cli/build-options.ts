import type { ReplacePolicy } from '../emit/outputs.js';
import type { BuildRequest } from '../pipeline/request.js';
import type { Arch } from '../registry/arch.js';
import type { PackageFamily } from '../registry/types.js';
import { parsePackageSpec, type PackageRequest } from '../resolve/backend.js';
import { checkRequest } from '../resolve/names.js';
import { UserError } from '../util/errors.js';

/** What the build commands (`install`, `image`, `why`, `init`) share: their options and how they become a build. */

/** Options that say what to build, shared by `install` and `image`. */
export interface BuildOptions {
  target: string;
  /** Take the packages from this target's distribution: a self-contained layer (`--from`). */
  from?: string;
  arch: string;
  buildImage?: string;
  repo: string[];
  /** false with --no-default-repos */
  defaultRepos?: boolean;
  runtimeManifest?: string;
  network?: string;
  recipes: string[];
  keepDocs?: boolean;
  keepLocales?: boolean;
  keepHeaders?: boolean;
  keepStatic?: boolean;
  /** Groups of what cannot work on Lambda to keep (`--keep-unusable`, repeatable). */
  keepUnusable?: string[];
  force?: boolean;
  allowMissing?: boolean;
  /** A packed layer (`--pack`). */
  pack?: boolean;
  /** false with --no-scripts: the packages' maintainer scripts do not run. */
  scripts?: boolean;
  refresh?: boolean;
  dryRun?: boolean;
  cacheDir?: string;
  /** Run the package manager on this machine (a Dockerfile stage), not in a build container. */
  local?: boolean;
  disposable?: boolean;
  json?: boolean;
  quiet?: boolean;
}

/** `name` or `name=version`, as given on the command line, in the grammar of the target's family. */
export function parsePackageArg(arg: string, family: PackageFamily): PackageRequest {
  const r = parsePackageSpec(arg);
  if (!r) throw new UserError(`'${arg}' is not a package name (expected NAME or NAME=VERSION)`);
  checkRequest(family, r, `'${arg}'`);
  return r;
}

/** The build the options of `install` and `image` (or the fewer of `why`) ask for; buildSpec (pipeline/request.ts) adds the defaults. */
export function buildRequest(packages: PackageRequest[], target: string, arch: Arch, opts: Partial<BuildOptions>): BuildRequest {
  return {
    packages,
    target,
    arch,
    buildImage: opts.buildImage,
    repos: opts.repo,
    defaultRepos: opts.defaultRepos,
    runtimeManifest: opts.runtimeManifest,
    keep: { docs: opts.keepDocs, locales: opts.keepLocales, headers: opts.keepHeaders, staticLibs: opts.keepStatic },
    keepUnusable: opts.keepUnusable,
    recipeDirs: opts.recipes,
    network: opts.network,
    cacheDir: opts.cacheDir,
    refresh: opts.refresh,
    dryRun: opts.dryRun,
    local: opts.local,
    disposable: opts.disposable,
    pack: opts.pack,
    from: opts.from,
    scripts: opts.scripts,
  };
}

/** `--force` also lets an output replace a file or link that yumda did not write. */
export function replacePolicy(opts: { force?: boolean }): ReplacePolicy {
  return { force: !!opts.force, forceFlag: '--force' };
}
