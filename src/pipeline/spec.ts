import type { ImageIdentity } from '../docker/images.js';
import type { Arch } from '../registry/arch.js';
import type { Repository, Runtime, Target } from '../registry/types.js';
import type { PackageRequest, VersionPin } from '../resolve/backend.js';
import type { Plan } from '../resolve/plan.js';
import type { KeepOptions } from '../relocate/placement.js';
import type { LockedLayer } from '../project/lock.js';
import type { ProgressState } from '../util/progress.js';

/** What a build is asked for: every way into one (install, image, a manifest's layer, the unpack tools) fills this in. */
export interface BuildSpec {
  packages: PackageRequest[];
  target: string;
  arch: Arch;
  /** Use this build image instead of the target's (it must exist in the engine). */
  buildImage?: string | undefined;
  /** Extra repositories (`--repo`), in the package manager's terms. */
  repos: string[];
  /** False: use only `repos`, not the target's own repositories (`--no-default-repos`). */
  defaultRepos?: boolean;
  /** A runtime manifest file to use instead of the target's (`--runtime-manifest`). */
  runtimeManifest?: string | undefined;
  keep: KeepOptions;
  /** Groups of registry/unusable-on-lambda.json to keep after all (`all`: every one). */
  keepUnusable?: readonly string[];
  recipeDirs: string[];
  /** Docker network mode of build containers (`host` where the default bridge has no route). */
  network?: string | undefined;
  cacheDir?: string | undefined;
  /** Fetch repository metadata and resolve again even when the cached ones are fresh. */
  refresh?: boolean;
  /** Stop after resolving: report the plan, build nothing (the result is a DryRun). */
  dryRun?: boolean;
  /** The lock entry the plan must match (`yumda build --frozen`): a difference stops the build right after resolving. */
  frozen?: { locked: LockedLayer; label: string } | undefined;
  /** Run the package manager on this machine instead of a build container (a Dockerfile stage). */
  local?: boolean;
  /** With `local`: this machine is a throwaway stage, where the maintainer scripts may install the packages. */
  disposable?: boolean;
  /** Versions to prefer when the closure needs the package (a lock file's). */
  pins?: VersionPin[];
  /** The layer's name in its SBOM (default: the first requested package). */
  name?: string;
  /** Ship the tree as one archive unpacked into /tmp on first use (`--pack`, docs/packed-layers.md). */
  pack?: boolean;
  /**
   * Take the packages from this target's distribution (`--from`) and make a self-contained layer:
   * it carries that distribution's C library and loader, leaves nothing out because the runtime
   * has it, and needs nothing of the runtime but the kernel (relocate/self-contained.ts).
   */
  from?: string | undefined;
  /** What the layer becomes: a zip or a directory (the default), or a container image; it decides the largest file staging takes. */
  output?: 'layer' | 'image';
  /**
   * Run the packages' maintainer scripts and triggers and ship what they generate (default);
   * false (`--no-scripts`): the packages only unpacked, as before (stage/scripts.ts).
   */
  scripts?: boolean;
}

/** What a build will use, known before any container runs: printed first, so a failure still says it. */
export interface BuildSetup {
  target: Target;
  runtime: Runtime;
  arch: Arch;
  image: string;
  /** Where the image comes from: `images/al2023/Dockerfile (FROM …)` or `--build-image`. */
  imageSource: string;
  repositories: Repository[];
}

/** What a build tells its caller as it goes; the CLI turns these into progress output. */
export interface BuildEvents {
  setup?(setup: BuildSetup): void;
  step(title: string): void;
  detail(line: string): void;
  /** Where a long step is (done of total, bytes, rate); `final` for its last state. */
  progress?(state: ProgressState, final: boolean): void;
  /** Says a warning as it happens; every warning is also kept in the result's `diagnostics` (util/diagnostics.ts). */
  warn?(line: string): void;
  /** The resolved plan, for people to see: it reports, it does not decide (`frozen` does). */
  plan(plan: Plan, ctx: { target: Target; arch: Arch; image: string; repositories: Repository[]; runtime?: string; imageIdentity: ImageIdentity }): void;
}
