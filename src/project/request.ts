import type { BuildRequest } from '../pipeline/request.js';
import { lockedRequests, pinsOf, type LockedLayer } from './lock.js';
import type { LayerJob } from './manifest.js';

/** How messages name one layer of the manifest for one architecture. */
export function layerLabel(job: Pick<LayerJob, 'name' | 'target' | 'arch'>): string {
  return `layer '${job.name}' (${job.target} ${job.arch.lambda})`;
}

/** What a run of `yumda build` or `yumda update` adds to a layer's declaration. */
export interface LayerRun {
  network?: string | undefined;
  cacheDir?: string | undefined;
  /** Fetch repository metadata and resolve again even when the cached ones are fresh. */
  refresh?: boolean | undefined;
  /** The lock entry whose versions the build takes (the declaration is unchanged since it was written). */
  lockedVersions?: LockedLayer | undefined;
  /** The lock entry the plan must match, or the build stops right after resolving (`--frozen`). */
  frozenTo?: LockedLayer | undefined;
}

/**
 * What buildLayer is asked for one layer of the manifest: its declaration as written (the
 * manifest's own defaults are applied when it is read, project/manifest.ts) and, from a lock, the
 * requests with the locked versions and the pins; buildSpec (pipeline/request.ts) adds the rest.
 */
export function layerRequest(job: LayerJob, run: LayerRun = {}): BuildRequest {
  return {
    packages: run.lockedVersions ? lockedRequests(job.packages, run.lockedVersions) : job.packages,
    ...(run.lockedVersions ? { pins: pinsOf(run.lockedVersions) } : {}),
    target: job.target,
    arch: job.arch,
    name: job.name,
    buildImage: job.buildImage,
    repos: job.repos,
    defaultRepos: job.defaultRepos,
    runtimeManifest: job.runtimeManifest,
    keep: job.keep,
    keepUnusable: job.keepUnusable,
    recipeDirs: job.recipeDirs,
    pack: job.pack,
    from: job.from,
    scripts: job.scripts,
    network: run.network,
    cacheDir: run.cacheDir,
    refresh: run.refresh,
    ...(run.frozenTo ? { frozen: { locked: run.frozenTo, label: layerLabel(job) } } : {}),
  };
}
