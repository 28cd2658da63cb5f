import path from 'node:path';
import type { KeepOptions } from '../relocate/placement.js';
import type { QuerySpec } from './query.js';
import type { BuildSpec } from './spec.js';

/**
 * A build as its caller asks for it: what to build (packages, target, architecture) and whatever
 * else differs from the defaults. Every way into a build states one: `install` and `image` from
 * their options (cli/build-options.ts), `why` from its fewer ones, a manifest's layer from its
 * declaration (project/request.ts). buildSpec gives it the defaults, which are written only here.
 */
export type BuildRequest = Pick<BuildSpec, 'packages' | 'target' | 'arch'> &
  Partial<Omit<BuildSpec, 'packages' | 'target' | 'arch' | 'keep'>> & {
    /** What to keep that is left out by default; a kind not named is not kept. */
    keep?: { [K in keyof KeepOptions]?: boolean | undefined } | undefined;
  };

/** Where to ask the package manager something (`search`, `why`), as its caller says it: the rest as for a build. */
export type QueryRequest = Pick<QuerySpec, 'target' | 'arch'> & Partial<Omit<QuerySpec, 'target' | 'arch'>>;

/** The Docker network of build containers: the one asked for, else YUMDA_DOCKER_NETWORK's, else the engine's default. */
export function dockerNetwork(asked: string | undefined, env: NodeJS.ProcessEnv = process.env): string | undefined {
  return asked ?? env.YUMDA_DOCKER_NETWORK;
}

/**
 * The build a request describes, every default filled in: the target's repositories too, nothing
 * extra kept, the maintainer scripts run, a plain (not packed) layer in a build container, the
 * cached metadata and plans reused while fresh, and the recipe directories as absolute paths.
 * A request that says `dryRun: true` or `dryRun: false` outright gets a spec that says it too, so
 * buildLayer's result type follows it (a DryRun, or a BuiltLayer).
 */
export function buildSpec(req: BuildRequest & { dryRun: true }, env?: NodeJS.ProcessEnv): BuildSpec & { dryRun: true };
export function buildSpec(req: BuildRequest & { dryRun: false }, env?: NodeJS.ProcessEnv): BuildSpec & { dryRun: false };
export function buildSpec(req: BuildRequest, env?: NodeJS.ProcessEnv): BuildSpec;
export function buildSpec(req: BuildRequest, env: NodeJS.ProcessEnv = process.env): BuildSpec {
  const keep = req.keep ?? {};
  return {
    packages: req.packages,
    target: req.target,
    arch: req.arch,
    buildImage: req.buildImage,
    repos: req.repos ?? [],
    defaultRepos: req.defaultRepos ?? true,
    runtimeManifest: req.runtimeManifest,
    keep: { docs: keep.docs ?? false, locales: keep.locales ?? false, headers: keep.headers ?? false, staticLibs: keep.staticLibs ?? false },
    keepUnusable: req.keepUnusable ?? [],
    recipeDirs: (req.recipeDirs ?? []).map((d) => path.resolve(d)),
    network: dockerNetwork(req.network, env),
    cacheDir: req.cacheDir,
    refresh: req.refresh ?? false,
    dryRun: req.dryRun ?? false,
    frozen: req.frozen,
    local: req.local ?? false,
    disposable: req.disposable ?? false,
    ...(req.pins ? { pins: req.pins } : {}),
    ...(req.name !== undefined ? { name: req.name } : {}),
    pack: req.pack ?? false,
    from: req.from,
    output: req.output ?? 'layer',
    scripts: req.scripts ?? true,
  };
}

/** Where a query asks, every default filled in as buildSpec fills a build's. */
export function querySpec(req: QueryRequest, env: NodeJS.ProcessEnv = process.env): QuerySpec {
  return {
    target: req.target,
    arch: req.arch,
    repos: req.repos ?? [],
    defaultRepos: req.defaultRepos ?? true,
    buildImage: req.buildImage,
    network: dockerNetwork(req.network, env),
    refresh: req.refresh ?? false,
    local: req.local ?? false,
    from: req.from,
    runtimeManifest: req.runtimeManifest,
  };
}
