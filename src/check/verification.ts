import path from 'node:path';
import { connectEngine } from '../docker/engine.js';
import { LAMBDA_USER } from '../format/lambda.js';
import type { LayerManifest } from '../format/layer-manifest.js';
import { unusableLine } from '../format/unusable.js';
import { loadRecipes } from '../recipes/load.js';
import { parseArch } from '../registry/arch.js';
import type { Runtime } from '../registry/types.js';
import type { FileTree } from '../tree/types.js';
import { UserError } from '../util/errors.js';
import { printable } from '../util/printable.js';
import { ensureVerifyImage, verifyImageFor } from './sandbox.js';
import { formatResult, smokeTestsFor, verifyLayer, type CheckResult } from './verify.js';

/**
 * Verifying a layer Lambda-like, as a use case: pick the runtime image (emulated for another
 * architecture), run the smoke tests of its recipes and the user's commands, and sum up.
 */

/** Where the checks report: the CLI's Reporter is one. */
export interface VerificationEvents {
  step(line: string): void;
  detail(line: string): void;
  info(line: string): void;
  done(): void;
}

export interface Verification {
  image: string;
  checks: CheckResult[];
  passed: boolean;
}

function timeoutMs(opts: { timeout: string }): number {
  const s = Number(opts.timeout);
  if (!Number.isFinite(s) || s <= 0) throw new UserError(`--timeout ${opts.timeout}: expected a number of seconds`);
  return s * 1000;
}

/**
 * Runs every check on a layer and reports one line per check as it completes (through `ui.info`;
 * in --quiet mode only failures, on stdout). Shared by `yumda verify` and `yumda install --verify`.
 */
export async function runVerification(
  layer: FileTree,
  manifest: LayerManifest | undefined,
  runtime: Runtime,
  opts: { run: string[]; recipes: string[]; timeout: string; network?: string | undefined; json?: boolean; quiet?: boolean },
  ui: VerificationEvents,
): Promise<Verification> {
  const timeout = timeoutMs(opts);
  const skipped: CheckResult[] = [];
  let smoke: ReturnType<typeof smokeTestsFor>['tests'] = [];
  if (manifest) {
    const found = smokeTestsFor(manifest, loadRecipes(opts.recipes.map((r) => path.resolve(r))), runtime.family);
    smoke = found.tests;
    for (const name of found.unknown)
      skipped.push({ check: `smoke ${name}`, status: 'skip', message: `the layer was built with recipe '${name}', which this yumda does not have (add it with --recipes)` });
  } else {
    skipped.push({ check: 'smoke', status: 'skip', message: 'the layer has no yumda manifest, so no recipe smoke tests apply' });
  }
  const docker = await connectEngine();
  const network = opts.network ?? process.env.YUMDA_DOCKER_NETWORK;
  const buildOpts = { network, onLine: ui.detail, onBuild: (ref: string) => ui.step(`building the ${runtime.id} runtime image ${ref} (first time only)`) };
  // an arm64 layer runs on an x86_64 engine (or the reverse) only under emulation
  const where = manifest ? await verifyImageFor(docker, runtime, parseArch(manifest.arch), buildOpts) : { image: await ensureVerifyImage(docker, runtime, buildOpts) };
  let run = opts.run;
  let image: string;
  if ('cannot' in where) {
    for (const s of smoke) skipped.push({ check: `smoke ${s.recipe}`, status: 'skip', command: s.run, message: where.cannot });
    for (const r of run) skipped.push({ check: 'run', status: 'skip', command: r, message: where.cannot });
    smoke = [];
    run = [];
    image = '';
  } else image = where.image;

  const print = (r: CheckResult) => {
    if (opts.json) return;
    if (opts.quiet) {
      if (r.status === 'fail') process.stdout.write(formatResult(r) + '\n');
    } else ui.info(formatResult(r));
  };
  const events = { step: ui.step, detail: ui.detail, result: print };
  const leftOut = manifest?.leftOut ?? [];
  if (leftOut.length && !opts.json && !opts.quiet) {
    ui.info(
      `left out at build time (a library they need is nowhere, nothing links to them): ${leftOut.map((m) => `${printable(m.file.replace(/^\/opt\//, ''))} (${m.version ? `${printable(m.version)} of ` : ''}${printable(m.soname)})`).join(', ')}`,
    );
  }
  if (!opts.json && !opts.quiet) for (const u of manifest?.unusable ?? []) ui.info(unusableLine(u));
  const checks = await verifyLayer(
    docker,
    image,
    {
      layer,
      runtime,
      smoke,
      run,
      timeoutMs: timeout,
      skipped,
      ...(manifest?.packed ? { packed: manifest.packed } : {}),
      ...(manifest?.selfContained ? { selfContained: true } : {}),
    },
    events,
  );
  ui.done();
  return { image, checks, passed: checks.every((c) => c.status !== 'fail') };
}

export function verdict(v: Verification): string {
  const n = (s: CheckResult['status']) => v.checks.filter((c) => c.status === s).length;
  const head = `${v.passed ? 'verified' : 'verification failed'}: ${n('pass')} passed, ${n('fail')} failed${n('skip') ? `, ${n('skip')} skipped` : ''}`;
  // no image: no command could run (a layer of an architecture the engine does not emulate)
  if (!v.image) return head;
  return `${head} (Lambda-like in ${v.image}: read-only root, /tmp only, uid ${LAMBDA_USER.split(':')[0]}, no network, Lambda's PATH and LD_LIBRARY_PATH)`;
}
