import type { Runner } from '../runner/types.js';
import type { Arch } from '../registry/arch.js';
import type { Repository, Runtime, Target } from '../registry/types.js';
import type { Plan, PlannedPackage } from './plan.js';

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
 * A package as written on the command line or in a manifest, `NAME` or `NAME=VERSION`, or
 * undefined when it is not one. The name is Debian's and rpm's common ground; the version may
 * hold anything but white space, so nothing of it can break a generated Dockerfile's line.
 */
export function parsePackageSpec(text: string): PackageRequest | undefined {
  const m = /^([A-Za-z0-9][A-Za-z0-9.+_-]*)(?:=(\S+))?$/.exec(text.trim());
  if (!m) return undefined;
  return m[2] ? { name: m[1]!, version: m[2] } : { name: m[1]! };
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

/**
 * Where the package manager leaves what it unpacked: each package's tree under
 * `STAGE_OUT/pkgs/<name>/`, small metadata files (`<name>.alternatives`: the
 * update-alternatives calls of its maintainer scripts) under `STAGE_OUT/meta/`, and the package
 * files under `STAGE_OUT/archives/`.
 */
export const STAGE_OUT = '/yumda/out';

/** Under STAGE_OUT: each package's own file (`<name>.deb`, `<name>.rpm`), which installing it needs. */
export const STAGE_ARCHIVES = 'archives';

/** How long fetched repository metadata is reused before it is fetched again. */
export interface Freshness {
  maxAgeMinutes: number;
  /** Fetch now, whatever the age (`--refresh`). */
  force: boolean;
}

/**
 * What each package manager family does inside the build container (or on this machine, with
 * --local: the Runner). The runner is shared by the steps; files from `configFiles` are put into
 * it before the first step.
 */
export interface Backend {
  configFiles(ctx: ResolveContext): Map<string, string>;
  /**
   * Docker volumes (not bind mounts: a remote engine works the same) that keep repository
   * metadata between builds, by name and mount path.
   */
  metadataVolumes(ctx: ResolveContext): Array<{ name: string; path: string }>;
  /** Fetches repository metadata, unless what the volumes hold is fresh enough. */
  refresh(c: Runner, ctx: ResolveContext, log: Log, freshness: Freshness): Promise<void>;
  resolve(c: Runner, ctx: ResolveContext, requests: PackageRequest[], log: Log): Promise<Plan>;
  /** Downloads and unpacks packages without maintainer scripts into STAGE_OUT, keeping the package files. */
  stage(c: Runner, ctx: ResolveContext, packages: PlannedPackage[], log: Log): Promise<void>;
  /** Packages of the repositories that provide these sonames, for the closure report. */
  providers?(c: Runner, ctx: ResolveContext, sonames: string[]): Promise<Map<string, string>>;
  /** Versions of a package the repositories offer, newest first (for version ranges). */
  candidates?(c: Runner, ctx: ResolveContext, name: string, log: Log): Promise<string[]>;
}
