import type { WorkContainer } from '../docker/container.js';
import type { Arch } from '../registry/arch.js';
import type { Repository, Runtime, Target } from '../registry/types.js';
import type { Plan } from './plan.js';

/** A requested package: a name, optionally pinned (`name=version`). */
export interface PackageRequest {
  name: string;
  version?: string;
  /**
   * A semver range on the upstream part of the version (`^22.12`, `>=1.6 <2`). The build picks the
   * newest candidate in the repositories that satisfies it and pins it as `version`.
   */
  upstream?: string;
}

/**
 * An exact version the resolver should prefer for a package when the package is in the closure
 * (from a lock file). Unlike a request, a pin does not ask for the package: it only decides which
 * version is chosen if something needs it. A pin whose version is gone is ignored by the resolver,
 * so the caller compares the plan with what it pinned.
 */
export interface VersionPin {
  name: string;
  version: string;
  arch: string;
}

export interface ResolveContext {
  target: Target;
  runtime: Runtime;
  arch: Arch;
  repositories: Repository[];
  pins?: VersionPin[];
}

export type Log = (line: string) => void;

/** Where the package manager leaves the staged root and the per-package file lists. */
export const STAGE_OUT = '/yumda/out';
export const STAGE_ROOT_PREFIX = 'out/root/';
export const STAGE_META_PREFIX = 'out/meta/';

/**
 * What each package manager family does inside the build container. The container is shared by
 * the steps; files from `configFiles` are put into it before the first step.
 */
export interface Backend {
  configFiles(ctx: ResolveContext): Map<string, string>;
  /** Fetches repository metadata. */
  refresh(c: WorkContainer, ctx: ResolveContext, log: Log): Promise<void>;
  resolve(c: WorkContainer, ctx: ResolveContext, requests: PackageRequest[], log: Log): Promise<Plan>;
  /** Versions of a package the repositories offer, newest first (for version ranges). */
  candidates?(c: WorkContainer, ctx: ResolveContext, name: string, log: Log): Promise<string[]>;
  /** Downloads and unpacks the plan without maintainer scripts into STAGE_OUT. */
  stage(c: WorkContainer, ctx: ResolveContext, plan: Plan, log: Log): Promise<void>;
}
