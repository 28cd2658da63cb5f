import type { Runner } from '../runner/types.js';
import type { Arch } from '../registry/arch.js';
import type { Repository, Runtime, Target } from '../registry/types.js';
import type { Plan } from './plan.js';

/** A requested package: a name, optionally pinned (`name=version`). */
export interface PackageRequest {
  name: string;
  version?: string;
}

export interface ResolveContext {
  target: Target;
  runtime: Runtime;
  arch: Arch;
  repositories: Repository[];
}

export type Log = (line: string) => void;

/** Where the package manager leaves the staged root and the per-package file lists. */
export const STAGE_OUT = '/yumda/out';
export const STAGE_ROOT_PREFIX = 'out/root/';
export const STAGE_META_PREFIX = 'out/meta/';

/**
 * What each package manager family does inside the build container (or on this machine, with
 * --local: the Runner). The runner is shared by the steps; files from `configFiles` are put into
 * it before the first step.
 */
export interface Backend {
  configFiles(ctx: ResolveContext): Map<string, string>;
  /** Fetches repository metadata. */
  refresh(c: Runner, ctx: ResolveContext, log: Log): Promise<void>;
  resolve(c: Runner, ctx: ResolveContext, requests: PackageRequest[], log: Log): Promise<Plan>;
  /** Downloads and unpacks the plan without maintainer scripts into STAGE_OUT. */
  stage(c: Runner, ctx: ResolveContext, plan: Plan, log: Log): Promise<void>;
}
