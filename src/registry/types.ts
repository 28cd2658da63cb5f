/** Data in registry/: what a target is and what the runtime it deploys into already provides. */

export type PackageFamily = 'deb' | 'rpm';
export type PackageManager = 'apt' | 'dnf' | 'yum';

export interface Repository {
  /** A short name, used in logs and in the generated repository files. */
  id: string;
  /** Where it is; absent for a repository that a release package configures (`release`). */
  url?: string;
  /** apt: suites (bookworm, bookworm-updates, …) and components. */
  suites?: string[];
  components?: string[];
  /** rpm: whether the packages' signatures are checked (gpgcheck). */
  gpgcheck?: boolean;
  /** rpm: the signing key, as a path inside the build image (checked with rpmkeys after download). */
  gpgkey?: string;
  /** rpm: `url` is a mirror list (one base URL a line), not the repository itself. */
  mirrorlist?: boolean;
  /**
   * rpm: the repository is configured the way its vendor documents, by installing this release
   * package from the other repositories (SPAL: `spal-release` from AL2023's core): the .repo
   * files it ships say where the repository is, and whether and with which key its packages are
   * signed.
   */
  release?: string;
  /** Said once with a plan that takes packages from it (SPAL: no AWS support, no AWS CVE tracking). */
  supportNote?: string;
}

/** A repository a target does not use by default, enabled by name (`--repo spal`, `spal` in a manifest's repos). */
export interface OptionalRepository {
  name: string;
  description: string;
  repository: Repository;
}

export interface BuildImage {
  /** Image repository name; the tag is derived from the Dockerfile context's content. */
  name: string;
  /** Directory (relative to the project root) holding the Dockerfile that builds it. */
  context: string;
}

export interface Target {
  id: string;
  description: string;
  family: PackageFamily;
  packageManager: PackageManager;
  /** `releasever` is the rpm repositories' $releasever (AL2023: `latest` or a pinned release). */
  distro: { name: string; version: string; codename?: string; releasever?: string };
  architectures: Array<'x86_64' | 'arm64'>;
  buildImage: BuildImage;
  repositories: Repository[];
  /** Repositories enabled by name (`--repo spal`). */
  optionalRepositories?: OptionalRepository[];
  /** Set when the distribution reached end of support: still built, listed as legacy. */
  legacy?: { endOfSupport: string; note?: string };
  /** Id of the runtime manifest in registry/runtimes/. */
  runtime: string;
  /**
   * Packages whose files must be the runtime's own (its C library and loader, the base files): a plan
   * that needs a newer one than the runtime has stops, since a layer cannot replace them.
   */
  runtimeBound: string[];
  /** Lambda runtime identifiers a layer for this target is compatible with (for publishing). */
  compatibleRuntimes: string[];
  /** When Lambda deprecates each compatible runtime (AWS's runtime table), and where that was read. */
  runtimeDeprecations?: { source: string; dates: RuntimeDeprecation[] };
  /** An image of the target's distribution, with Node.js 20.15+ or `nodeSetup`, for `install --dockerfile`'s stage. */
  nodeImage?: string;
  /** A shell command that installs Node.js (and what --local needs) in `nodeImage`, where it has none. */
  nodeSetup?: string;
}

/** A Lambda runtime's deprecation dates (YYYY-MM-DD). */
export interface RuntimeDeprecation {
  runtime: string;
  /** No more security patches or support; functions still run. */
  deprecated: string;
  /** No new functions on it. */
  blockCreate?: string;
  /** No updates to its functions, so none can take a new layer version. */
  blockUpdate?: string;
}

export interface RuntimePackage {
  name: string;
  version: string;
  /** `all`/`noarch` or the architecture the manifest was read on. */
  arch: string;
  source?: string;
  /** Virtual packages / capabilities it provides (deb Provides; for rpm the soname provides). */
  provides?: string[];
  multiArch?: string;
}

export interface Provenance {
  /** Where the list was read: an image reference, a dump of the real Lambda environment, … */
  source: string;
  /** How it was read (the command), so it can be redone. */
  method: string;
  date: string;
  note?: string;
}

export interface Runtime {
  id: string;
  description: string;
  /** The image a layer is verified in: the runtime's own image (or the closest public one). */
  image: string;
  /** Dockerfile context that adds what verification needs (the sbx_user1051 passwd entry). */
  verifyImage?: BuildImage;
  family: PackageFamily;
  lambda: { PATH: string; LD_LIBRARY_PATH: string };
  /** Shells and interpreters the runtime is known to ship, for wrappers and shebangs. */
  shell: string;
  provenance: Provenance;
  packages: RuntimePackage[];
  /** File names of the shared libraries in the runtime's library directories. */
  libraries: string[];
  /**
   * The symbol versions the runtime's C and C++ libraries define (GLIBC_*, GLIBCXX_*, CXXABI_*,
   * GCC_*), per soname: what a shipped program's version needs are checked against.
   */
  symbolVersions?: SymbolVersions[];
}

/** The symbol versions one library of a runtime defines (its DT_VERDEF, or its rpm provides). */
export interface SymbolVersions {
  soname: string;
  versions: string[];
}

/** A kind of content that cannot work on Lambda (registry/unusable-on-lambda.json). */
export interface UnusableGroup {
  /** What `--keep-unusable` names. */
  id: string;
  /** What the files are, for the report: "GPU drivers". */
  what: string;
  /** Why they cannot work: "Lambda has no GPU". */
  why: string;
  /** Globs over the packages' own paths, before relocation. */
  paths: string[];
  /** Packages left out whole, per family. */
  packages: Record<PackageFamily, string[]>;
}

export interface UnusableOnLambda {
  description: string;
  groups: UnusableGroup[];
}

/** registry/package-names.json: the same software's rpm and Debian names. */
export interface PackageNamePairs {
  description: string;
  pairs: Array<{ rpm: string; deb: string }>;
}
