import type { Command, OptionValues } from '@commander-js/extra-typings';
import type { ReplacePolicy } from '../emit/outputs.js';
import type { BuildRequest } from '../pipeline/request.js';
import type { Arch } from '../registry/arch.js';
import type { PackageFamily } from '../registry/types.js';
import { parsePackageSpec, type PackageRequest } from '../resolve/backend.js';
import { checkRequest } from '../resolve/names.js';
import { UserError } from '../util/errors.js';
import { DEFAULT_TARGET, loadUnusable } from '../registry/load.js';
import { collect, type NoOptions, type OptionsOf } from './options.js';

/** What the build commands (`install`, `image`, `why`, `init`) share: their options and how they become a build. */

/**
 * The options that say what to build and how to report it, shared by `install` and `image`: added
 * after the command's own, so they come after them in its help. Their values' types are inferred
 * from these declarations (BuildOptions).
 */
export function addBuildOptions<Args extends unknown[], Opts extends OptionValues, GlobalOpts extends OptionValues>(cmd: Command<Args, Opts, GlobalOpts>) {
  return cmd
    .option('-t, --target <id>', 'target distribution and runtime (see `yumda targets`)', DEFAULT_TARGET)
    .option('-a, --arch <arch>', 'x86_64 or arm64', 'x86_64')
    .option(
      '--from <target>',
      "take the packages from this target's distribution and make a self-contained layer: it carries that distribution's C library and needs nothing of the runtime but the kernel",
    )
    .option('--build-image <ref>', "use this image to run the package manager instead of the target's")
    .option(
      '--repo <url>',
      'extra package repository (repeatable); dnf/yum: URL or mirrorlist=URL; apt: "URL [SUITE [COMPONENT...]]"; or a name the target knows (al2023: spal, Supplementary Packages for Amazon Linux)',
      collect,
      [],
    )
    .option('--no-default-repos', "use only the --repo repositories, not the target's (mirrors, air-gapped CI)")
    .option('--runtime-manifest <file>', "use this runtime manifest (what the Lambda runtime already has) instead of the target's; see `yumda runtime refresh`")
    .option('--recipes <dir>', 'directory of extra relocation recipes (repeatable)', collect, [])
    .option('--network <mode>', 'Docker network mode for build containers (env YUMDA_DOCKER_NETWORK)')
    .option('--keep-docs', 'keep documentation, man and info pages')
    .option('--keep-locales', 'keep message translations (/usr/share/locale)')
    .option('--keep-headers', 'keep C headers (/usr/include)')
    .option('--keep-static', 'keep static libraries (*.a)')
    .option(
      '--keep-unusable <group>',
      `keep what cannot work on Lambda, left out by default (repeatable): ${loadUnusable()
        .groups.map((g) => g.id)
        .join(', ')}, or all`,
      collect,
      [],
    )
    .option('--allow-missing', 'write the layer even when a shipped binary needs a library neither the layer nor the runtime has')
    .option(
      '--no-scripts',
      "only unpack the packages: do not run their maintainer scripts and triggers, so nothing they generate (TeX's formats, Java's trust store, loader caches) is shipped",
    )
    .option('--pack', "ship the software as one compressed archive that launchers in /opt/bin unpack into /tmp on the first call: for what is over Lambda's 250 MB")
    .option(
      '--refresh',
      'fetch repository metadata, resolve and build again even if the cached ones are fresh (metadata and plans are reused for an hour, a finished build until its request changes)',
    )
    .option('--cache-dir <dir>', 'cache directory (default: $XDG_CACHE_HOME/yumda or ~/.cache/yumda)')
    .option('--json', 'print a machine-readable result on stdout (progress goes to stderr)')
    .option('-q, --quiet', 'print nothing but errors');
}

/** The values of the build options, as commander gives them to a handler. */
export type BuildOptions = OptionsOf<ReturnType<typeof addBuildOptions<[], NoOptions, NoOptions>>>;

/** `name` or `name=version`, as given on the command line, in the grammar of the target's family. */
export function parsePackageArg(arg: string, family: PackageFamily): PackageRequest {
  const r = parsePackageSpec(arg);
  if (!r) throw new UserError(`'${arg}' is not a package name (expected NAME or NAME=VERSION)`);
  checkRequest(family, r, `'${arg}'`);
  return r;
}

/**
 * The build the build options ask for (a command with fewer of them, `why`, gives what it has);
 * buildSpec (pipeline/request.ts) adds the defaults. What only one command has (`install`'s
 * --dry-run, --local, --disposable) that command adds to the request itself.
 */
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
    pack: opts.pack,
    from: opts.from,
    scripts: opts.scripts,
  };
}

/** `--force` also lets an output replace a file or link that yumda did not write. */
export function replacePolicy(opts: { force?: true | undefined }): ReplacePolicy {
  return { force: !!opts.force, forceFlag: '--force' };
}
