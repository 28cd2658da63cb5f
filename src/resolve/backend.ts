import type { Runner } from '../runner/types.js';
import type { Arch } from '../registry/arch.js';
import type { Repository, Runtime, Target } from '../registry/types.js';
import type { Plan, PlannedPackage } from './plan.js';
import type { SearchHit } from './search.js';
import { UserError } from '../util/errors.js';
import { shortList } from '../util/format.js';

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
 * The repositories have no package (or no such version) for some of what was asked. Its own kind,
 * so a build whose repository metadata came from the cache can say so (pipeline/build.ts).
 */
export class NotFoundError extends UserError {
  /** What was not found, when known: the names the build looks for near ones of (resolve/suggest.ts). */
  readonly missing: PackageRequest[];
  /** Names the repositories have, by request, once the build has looked. */
  readonly suggestions: ReadonlyMap<string, string[]>;
  constructor(message: string, options: ConstructorParameters<typeof UserError>[1] & { missing?: PackageRequest[]; suggestions?: ReadonlyMap<string, string[]> } = {}) {
    super(message, options);
    this.missing = options.missing ?? [];
    this.suggestions = options.suggestions ?? new Map();
  }

  override jsonFields(): Record<string, unknown> {
    const some = [...this.suggestions].filter(([, s]) => s.length);
    return some.length ? { suggestions: Object.fromEntries(some) } : {};
  }
}

/** The one not-found error for requests the repositories lack: its line, and what was missing. */
export function notFoundError(missing: PackageRequest[], targetId: string): NotFoundError {
  return new NotFoundError(notFoundLine(missing, targetId), { missing });
}

/**
 * One line for requests the repositories do not have, however many there are: the request
 * itself when it is one, else the count and the first few.
 */
export function notFoundLine(missing: PackageRequest[], targetId: string): string {
  const where = `in the ${targetId} repositories`;
  if (missing.length === 1) {
    const r = missing[0]!;
    return r.version ? `version ${r.version} of package '${r.name}' was not found ${where}` : `package '${r.name}' was not found ${where}`;
  }
  const names = missing.map((r) => `'${r.version ? `${r.name}=${r.version}` : r.name}'`);
  return `${missing.length} of the requested packages were not found ${where}: ${shortList(names)}`;
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

/** Where the repository metadata a build resolves from came from: fetched now, or the cache. */
export type MetadataSource = { fetched: true } | { fetched: false; ageSeconds: number };

/**
 * What a not-found error adds when the metadata came from the cache: a package added to a
 * repository since it was fetched is not in it yet.
 */
export function staleMetadataHint(source: MetadataSource | undefined): string | undefined {
  if (!source || source.fetched) return undefined;
  const age = source.ageSeconds < 90 ? `${source.ageSeconds} s` : `${Math.round(source.ageSeconds / 60)} min`;
  return `the repository metadata came from the cache (fetched ${age} ago); --refresh fetches it anew, in case the package was added since`;
}
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
  /** Fetches repository metadata, unless what the volumes hold is fresh enough; says which. */
  refresh(c: Runner, ctx: ResolveContext, log: Log, freshness: Freshness): Promise<MetadataSource>;
  resolve(c: Runner, ctx: ResolveContext, requests: PackageRequest[], log: Log): Promise<Plan>;
  /** Downloads and unpacks packages without maintainer scripts into STAGE_OUT, keeping the package files. */
  stage(c: Runner, ctx: ResolveContext, packages: PlannedPackage[], log: Log): Promise<void>;
  /** Packages of the repositories that provide these sonames, for the closure report. */
  providers?(c: Runner, ctx: ResolveContext, sonames: string[]): Promise<Map<string, string>>;
  /** Every package name the repositories have (for suggestions when one is not found). */
  packageNames?(c: Runner, ctx: ResolveContext, log: Log): Promise<string[]>;
  /** Versions of a package the repositories offer, newest first (for version ranges). */
  candidates?(c: Runner, ctx: ResolveContext, name: string, log: Log): Promise<string[]>;
  /**
   * The packages whose name or summary holds every word, best first (resolve/search.ts's
   * ranking), the first `limit` with their versions, and how many matched in all.
   */
  search(c: Runner, ctx: ResolveContext, words: string[], limit: number, log: Log): Promise<{ hits: SearchHit[]; total: number }>;
  /**
   * The closure the requests would have if recommended packages were installed too, with each
   * package's dependencies and recommendations: why a package the plan leaves out would come in
   * (`yumda why`). Only where the package manager has weak dependencies yumda leaves out.
   */
  withRecommends?(c: Runner, ctx: ResolveContext, requests: PackageRequest[], log: Log): Promise<WeakNode[]>;
}

/** A package of a closure with recommendations: its dependencies and, apart, what it recommends. */
export interface WeakNode {
  name: string;
  provides: string[];
  depends: string[][];
  recommends: string[][];
}
