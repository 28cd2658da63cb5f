#!/usr/bin/env node
import { Command, CommanderError, Option } from 'commander';
import { runInterruptTasks } from '../util/cleanup.js';
import { errorJson, errorReport, fsError, isUserError, UserError } from '../util/errors.js';
import { engineLost } from '../docker/engine.js';
import { toolVersion } from '../util/version.js';
import { DEFAULT_TARGET, loadUnusable } from '../registry/load.js';
import { buildCommand, updateCommand } from './commands/build.js';
import { cacheCleanCommand, cacheInfoCommand } from './commands/cache.js';
import { recipesCommand } from './commands/recipes.js';
import { imageCommand } from './commands/image.js';
import { diffCommand, inspectCommand } from './commands/inspect.js';
import { installCommand } from './commands/install.js';
import { verifyCommand } from './commands/verify.js';
import { runtimeRefreshCommand } from './commands/runtime.js';
import { targetsCommand } from './commands/targets.js';
import { registerSearch } from './commands/search.js';
import { registerWhy } from './commands/why.js';
import { registerInit } from './commands/init.js';

const collect = (v: string, prev: string[]) => [...prev, v];

/** Options that say what to build and how to report it, shared by the commands that build a layer. */
function buildOptions(cmd: Command): Command {
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
    .option('--refresh', 'fetch repository metadata and resolve again even if the cached ones are fresh (they are reused for an hour)')
    .option('--cache-dir <dir>', 'cache directory (default: $XDG_CACHE_HOME/yumda or ~/.cache/yumda)')
    .option('--json', 'print a machine-readable result on stdout (progress goes to stderr)')
    .option('-q, --quiet', 'print nothing but errors');
}

export function program(): Command {
  const cli = new Command('yumda')
    .version(toolVersion)
    .description(
      'Package native Linux software for AWS Lambda: resolve distro packages in a build container, ' + 'relocate them under /opt, and write a Lambda layer zip (or a directory).',
    )
    // commander's own errors (an unknown option, a missing argument) are thrown, not printed, so
    // they reach the one place that reports every error: same prefix, same --json object
    .exitOverride()
    .configureOutput({ outputError: () => undefined });
  cli.hook('preAction', (_cli, action) => {
    jsonOutput = !!action.opts().json;
  });

  cli
    .command('install')
    .description(
      'Build a Lambda layer from packages and their dependencies, minus what the Lambda runtime already has. ' +
        'Executables land in /opt/bin, libraries in /opt/lib, data in /opt/share, config in /opt/etc.',
    )
    .argument('<packages...>', 'package names, optionally pinned as NAME=VERSION')
    .option('-o, --out <file>', 'layer zip to write (default: <package>-<target>-<arch>.zip)')
    .option('--out-dir <dir>', 'write the layer as a directory instead of a zip')
    .option('--force', "write the layer even when it exceeds Lambda's 250 MB unzipped limit, and in place of a file or link at --out that yumda did not write")
    .option('--dry-run', 'resolve and print the plan; build nothing')
    .option('--verify', 'verify the layer (as `yumda verify` does) before writing it; write nothing if it fails')
    .option('--run <command>', 'with --verify: also run this shell command Lambda-like (repeatable)', collect, [])
    .option('--timeout <seconds>', 'with --verify: time limit of each command', '60')
    .option(
      '--local',
      "run the package manager on this machine instead of a build container (it must be the target's distribution, as in a Dockerfile stage); needs no Docker engine",
    )
    .option(
      '--disposable',
      'with --local: this machine is a throwaway build stage, so the maintainer scripts may run by installing the packages on it (the --dockerfile stage passes it)',
    )
    .option('--dockerfile', 'print a Dockerfile snippet that builds the layer inside your own `docker build` (a stage to COPY --from), instead of building it here')
    .option('--yumda-package <spec>', 'with --dockerfile: what the stage installs with npm (default: yumda@<this version>; a tarball or git URL works too)')
    .addHelpText(
      'after',
      '\nExamples:\n' +
        '  yumda install poppler-utils                          # al2023 (provided.al2023, nodejs20.x+, python3.12+), x86_64\n' +
        '  yumda install git --target al2 --arch arm64          # Amazon Linux 2 runtimes, Graviton\n' +
        '  yumda install poppler-utils --target debian12 --out poppler.zip --verify\n' +
        '  yumda install git --dry-run --json > plan.json\n' +
        '  yumda install poppler-utils --target debian12 --dockerfile >> Dockerfile.yumda   # a stage: COPY --from=yumda-poppler-utils /opt /opt\n',
    )
    .action((packages: string[], opts) => installCommand(packages, opts));
  buildOptions(cli.commands.find((c) => c.name() === 'install')!);

  buildOptions(
    cli
      .command('image')
      .description(
        'Build the layer as a container image holding only /opt (FROM scratch), load it into the Docker engine, ' +
          'and print the COPY line for your Dockerfile; or write it as an OCI or docker-archive tarball (no engine needed for that step).',
      )
      .argument('[packages...]', 'package names, optionally pinned as NAME=VERSION')
      .option('--tag <name:tag>', 'name of the image, in the engine and in tarballs (default: yumda/<package>:<target>-<arch>)')
      .option('--oci <file>', 'write an OCI image layout tarball (gzip layer; `docker load` reads it too)')
      .option('--docker-archive <file>', 'write a `docker save` tarball (for `docker load`)')
      .option('--load', 'load the image into the Docker engine also when writing --oci or --docker-archive')
      .option('--force', 'write a tarball in place of a file or link that yumda did not write')
      .option('--layer <zip>', 'make the image of this layer zip (or image tarball) instead of building one')
      .addHelpText(
        'after',
        '\nExamples:\n' +
          '  yumda image poppler-utils --tag deps/poppler:debian12\n' +
          '    then in your Dockerfile: COPY --from=deps/poppler:debian12 /opt /opt\n' +
          '  yumda image --layer poppler.zip --oci poppler-oci.tar   # no Docker engine needed\n',
      )
      .action((packages: string[], opts) => imageCommand(packages, opts)),
  );

  cli
    .command('verify')
    .description(
      'Check a layer the way Lambda will run it: every ELF file finds its libraries (in the layer or the runtime), and ' +
        "the recipes' smoke tests and your --run commands pass in a Lambda-like container of the target's runtime image " +
        "(layer read-only at /opt, read-only root, only /tmp writable, uid 993, no network, exactly Lambda's PATH and LD_LIBRARY_PATH). " +
        'One line per check; exits non-zero when any fails.',
    )
    .argument('<file>', 'a layer zip, or an image tarball written by `yumda image`')
    .option('-t, --target <id>', "target whose runtime to verify in (default: the one in the layer's manifest)")
    .option('--run <command>', 'also run this shell command; it passes when it exits 0 (repeatable)', collect, [])
    .option('--recipes <dir>', 'directory of extra recipes, for their smoke tests (repeatable)', collect, [])
    .option('--timeout <seconds>', 'time limit of each command', '60')
    .option('--network <mode>', 'Docker network mode for building the runtime image (env YUMDA_DOCKER_NETWORK)')
    .option('--json', 'machine-readable results on stdout')
    .option('-q, --quiet', 'print only failures')
    .addHelpText('after', "\nExample:\n  yumda verify poppler.zip --target debian12 --run 'pdftoppm -v'\n")
    .action((file: string, opts) => verifyCommand(file, opts));

  cli
    .command('inspect')
    .description(
      "What a layer zip (or image tarball) holds: sizes against Lambda's limits, size by package from the layer's " + 'own manifest, the largest files, executables and symlinks',
    )
    .argument('<file>', 'a layer zip, or an image tarball written by `yumda image --oci/--docker-archive`')
    .option('--top <n>', 'how many of the largest files, executables and symlinks to list', '10')
    .option('--all', 'list every file, executable and symlink')
    .option('--json', 'machine-readable report on stdout')
    .action((file: string, opts) => inspectCommand(file, opts));

  cli
    .command('diff')
    .description('What changed between two layers: packages (from their manifests) and files (added, removed, changed)')
    .argument('<a>', 'the old layer zip or image tarball')
    .argument('<b>', 'the new one')
    .option('--top <n>', 'how many files of each kind to list', '20')
    .option('--all', 'list every changed file')
    .option('--exit-code', 'exit with 1 when the layers differ (like git diff --exit-code)')
    .option('--json', 'machine-readable diff on stdout')
    .action((a: string, b: string, opts) => diffCommand(a, b, opts));

  const projectOptions = (c: Command): Command =>
    c
      .option('-m, --manifest <file>', 'the manifest (default: yumda.json, yumda.yaml or yumda.yml in the current directory)')
      .option('-l, --layer <name>', 'only this layer of the manifest (repeatable)', collect, [])
      .option('--network <mode>', 'Docker network mode for build containers (env YUMDA_DOCKER_NETWORK)')
      .option('--cache-dir <dir>', 'cache directory (default: $XDG_CACHE_HOME/yumda or ~/.cache/yumda)')
      .option('--json', 'print a machine-readable result on stdout (progress goes to stderr)')
      .option('-q, --quiet', 'print nothing but errors');

  projectOptions(
    cli
      .command('build')
      .description(
        'Build every layer of the manifest (yumda.json / yumda.yaml) with an SBOM beside each zip, and write yumda.lock ' +
          '(exact versions, checksums, build image). Layers whose declaration is unchanged keep their locked versions.',
      )
      .option('--frozen', 'fail if the manifest or the resolution differs from yumda.lock; never rewrite it (for CI)')
      .option('--allow-missing', "write every layer even when a shipped binary needs a library neither the layer nor the runtime has (the manifest's allowMissing, for all layers)")
      .option('--allow-outside', 'write outputs the manifest names outside its own directory (only for a manifest you trust)')
      .option('--refresh', 'fetch repository metadata and resolve again even if the cached ones are fresh (they are reused for an hour)'),
  )
    .addHelpText('after', '\nExamples:\n  yumda build\n  yumda build --frozen --json\n  yumda build --layer poppler\n')
    .action((opts) => buildCommand(opts));

  projectOptions(cli.command('update').description("Resolve the manifest's layers anew (newest versions within its constraints) and rewrite yumda.lock; builds nothing")).action(
    (opts) => updateCommand(opts),
  );

  cli
    .command('publish')
    .description(
      'Publish a layer zip as a Lambda layer version in each region (AWS SDK, standard credential chain). ' +
        'Skips a region whose newest version has the same content. Zips over 50 MB go through S3.',
    )
    .argument('<zip>', 'the layer zip (from yumda install or yumda build)')
    .requiredOption('-n, --name <layer>', 'Lambda layer name')
    .option('-r, --region <region>', "AWS region (repeatable; default: AWS_REGION, AWS_DEFAULT_REGION, else the AWS profile's region)", collect, [])
    .option('--s3-bucket <bucket>', 'bucket for zips over 50 MB, in the same region as the layer; {region} is replaced')
    .option('--s3-prefix <prefix>', 'key prefix in the bucket', 'yumda/')
    .option('--public', 'let every AWS account use the layer version')
    .option('--principal <id>', 'let this AWS account (or * ) use the layer version (repeatable)', collect, [])
    .option('--description <text>', 'layer version description (default: the packages and target)')
    .option('--license-info <spdx>', 'layer version license field')
    .option('--allow-missing', 'publish even when a shipped binary needs a library neither the layer nor its runtime has')
    .option('--runtime-manifest <file>', "check the layer's libraries against this runtime manifest instead of the one its manifest names")
    .option('--dry-run', 'say what would be published (layer, regions, zip size and SHA-256, runtimes); call no AWS API')
    .option('--json', 'print the layer version ARNs as JSON on stdout')
    .option('-q, --quiet', 'print nothing but errors')
    .addHelpText(
      'after',
      '\nEndpoints: the SDK honours AWS_ENDPOINT_URL, AWS_ENDPOINT_URL_LAMBDA and AWS_ENDPOINT_URL_S3.\n' +
        'Examples:\n  yumda publish poppler.zip --name poppler --region us-east-1 --region eu-west-1\n' +
        '  yumda publish big.zip --name big --region us-east-1 --s3-bucket my-layers-{region} --public --json\n',
    )
    // the AWS SDK loads only for this command: it would double every other command's start-up time
    .action(async (zip: string, opts) => (await import('./commands/publish.js')).publishCommand(zip, opts));

  registerSearch(cli);
  registerWhy(cli);
  registerInit(cli);

  cli
    .command('targets')
    .description('List the targets: distribution, package manager, build image and runtime of each')
    .option('--json', 'machine-readable output')
    .action((opts) => targetsCommand(opts));

  cli
    .command('recipes')
    .description('List the relocation recipes (recipes/*.json and --recipes directories): per-package environment, generated files, smoke tests')
    .option('--recipes <dir>', 'also read recipes from this directory (repeatable)', collect, [])
    .option('--json', 'machine-readable output')
    .action((opts) => recipesCommand(opts));

  const cache = cli.command('cache').description('The build cache: packages, plans, zips (default $XDG_CACHE_HOME/yumda or ~/.cache/yumda)');
  cache
    .command('info')
    .description('Show what the cache holds and its size')
    .option('--cache-dir <dir>', 'cache directory')
    .option('--json', 'machine-readable output')
    .action((opts) => cacheInfoCommand(opts));
  cache
    .command('clean')
    .description('Empty the cache (or --only some parts of it)')
    .option('--cache-dir <dir>', 'cache directory')
    .option('--only <part>', 'content, packages, plans, postStage, scripts, zips or packs (repeatable)', collect, [])
    .option('--metadata', "also remove the repository metadata volumes (the engine's, shared by every cache directory; fetched again by the next build)")
    .action((opts) => cacheCleanCommand(opts));

  const runtime = cli.command('runtime').description('Runtime manifests: what each Lambda runtime already provides');
  runtime
    .command('refresh')
    .description("Regenerate a runtime manifest from a runtime image's package database")
    .argument('<image>', 'the runtime image to read (it must exist in the Docker engine)')
    .requiredOption('--runtime <id>', 'which manifest in registry/runtimes/ to regenerate')
    .option('--out <file>', 'write here instead of registry/runtimes/<id>.json')
    .addOption(new Option('--date <yyyy-mm-dd>', 'date to record (default: today)').hideHelp())
    .action((image: string, opts) => runtimeRefreshCommand(image, opts));

  return cli;
}

/**
 * Whether the command was asked for --json, so its failure is a JSON object on stdout too. Set
 * once the command line is parsed; before that (commander's own errors) the words tell.
 */
let jsonOutput: boolean | undefined;

function wantsJson(): boolean {
  return jsonOutput ?? process.argv.slice(2).includes('--json');
}

/**
 * Commander's error as yumda's: its "error: " prefix dropped (yumda's own is added), the usage
 * hint of the command it was about. Help and --version are not errors: undefined.
 */
function fromCommander(e: CommanderError): UserError | undefined {
  if (e.exitCode === 0 || e.code === 'commander.help' || e.code === 'commander.helpDisplayed' || e.code === 'commander.version') return undefined;
  const words = process.argv.slice(2).filter((w) => !w.startsWith('-'));
  const command = words.length && ['cache', 'runtime'].includes(words[0]!) && words[1] ? `${words[0]} ${words[1]}` : words[0];
  const known = program().commands.some((c) => c.name() === command?.split(' ')[0]);
  return new UserError(e.message.replace(/^error: /, ''), { hint: `run yumda ${known ? `${command} ` : ''}--help for usage`, exitCode: e.exitCode || 1 });
}

/** Prints an error the one way: the line on stderr, and with --json the object on stdout. */
function report(e: unknown): void {
  process.stderr.write(errorReport(e));
  if (wantsJson()) process.stdout.write(errorJson(e));
}

/** Exit codes of a process ended by a signal, as shells report them (128 + the signal's number). */
const SIGNAL_EXIT: Partial<Record<NodeJS.Signals, number>> = { SIGINT: 130, SIGTERM: 143 };

/**
 * How long removing containers and temporary files may take. Removal asks the Docker engine, and
 * an engine that stopped answering must not keep a Ctrl-C or a SIGTERM from ending the process.
 */
const CLEANUP_BOUND_MS = 10_000;

/**
 * How long the process may linger once its command is done. A CLI is done when its command is:
 * a socket or timer something left open (an engine that never answered) must not hold it.
 */
const LINGER_MS = 500;

async function cleanUp(): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([runInterruptTasks(), new Promise<void>((resolve) => (timer = setTimeout(resolve, CLEANUP_BOUND_MS)))]);
  clearTimeout(timer);
}

/** Exits once the command is done: at once if nothing is left open, else after LINGER_MS. */
function exitWhenDone(): void {
  setTimeout(() => process.exit(), LINGER_MS).unref();
}

/** An error as the user reads it: a full disk or a forbidden place, an engine that went away, else as it came. */
function userFacing(raw: unknown): unknown {
  return engineLost(fsError(raw));
}

async function main(): Promise<void> {
  let signalled: NodeJS.Signals | undefined;
  const onSignal = (sig: NodeJS.Signals) => {
    const code = SIGNAL_EXIT[sig] ?? 130;
    if (signalled) process.exit(code);
    signalled = sig;
    process.stderr.write(`\nyumda: ${sig === 'SIGINT' ? 'interrupted' : 'terminated'}; removing containers and temporary files\n`);
    void cleanUp().finally(() => process.exit(code));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  // `yumda verify x.zip | head -1`: once the reader is gone, output is dropped and the command
  // finishes its work (and its cleanup) as it would have, exit code included
  process.stdout.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code !== 'EPIPE') throw e;
  });
  // a failure that escaped the work (a stream's error nobody awaited) is reported like any other, once
  let reported = false;
  process.on('uncaughtException', (raw) => {
    // after a signal, the work it cut short fails in all sorts of ways: the signal's line is the only one
    if (signalled || reported) return;
    reported = true;
    const e = userFacing(raw);
    report(e);
    void cleanUp().finally(() => process.exit(isUserError(e) ? e.exitCode : 70));
  });
  try {
    await program().parseAsync(process.argv);
  } catch (raw) {
    if (raw instanceof CommanderError) {
      const e = fromCommander(raw);
      if (e) report(e);
      process.exitCode = raw.exitCode;
      return exitWhenDone();
    }
    // the signal handler (or the one for an escaped failure) is removing what the work left and exits when done
    if (signalled || reported) return new Promise<void>(() => undefined);
    reported = true;
    await cleanUp();
    const e = userFacing(raw);
    report(e);
    process.exitCode = isUserError(e) ? e.exitCode : 70;
  }
  if (!signalled) exitWhenDone();
}

await main();
