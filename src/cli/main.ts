#!/usr/bin/env node
import { Command, CommanderError } from '@commander-js/extra-typings';
import { runInterruptTasks } from '../util/cleanup.js';
import { errorJson, errorReport, fsError, isUserError, UserError } from '../util/errors.js';
import { engineLost } from '../docker/engine.js';
import { toolVersion } from '../util/version.js';
import { registerBuild, registerUpdate } from './commands/build.js';
import { registerCache } from './commands/cache.js';
import { registerRecipes } from './commands/recipes.js';
import { registerImage } from './commands/image.js';
import { registerDiff, registerInspect } from './commands/inspect.js';
import { registerInstall } from './commands/install.js';
import { registerPublish } from './commands/publish.js';
import { registerVerify } from './commands/verify.js';
import { registerRuntime } from './commands/runtime.js';
import { registerTargets } from './commands/targets.js';
import { registerSearch } from './commands/search.js';
import { registerWhy } from './commands/why.js';
import { registerInit } from './commands/init.js';

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

  // each command declares its options and arguments; its handler's types are inferred from them
  // (@commander-js/extra-typings). The order here is the order of `yumda --help`.
  registerInstall(cli);
  registerImage(cli);
  registerVerify(cli);
  registerInspect(cli);
  registerDiff(cli);
  registerBuild(cli);
  registerUpdate(cli);
  registerPublish(cli);
  registerSearch(cli);
  registerWhy(cli);
  registerInit(cli);
  registerTargets(cli);
  registerRecipes(cli);
  registerCache(cli);
  registerRuntime(cli);

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
