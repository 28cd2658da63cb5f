import type { Command } from '@commander-js/extra-typings';
import path from 'node:path';
import { diffLayers, formatDiff, isEmptyDiff } from '../../inspect/diff.js';
import { formatInspect, inspectLayer } from '../../inspect/report.js';
import { openLayer } from '../../layer/open.js';
import { UserError } from '../../util/errors.js';
import type { OptionsOf } from '../options.js';

function declareInspect(program: Command) {
  return program
    .command('inspect')
    .description(
      "What a layer zip (or image tarball) holds: sizes against Lambda's limits, size by package from the layer's " + 'own manifest, the largest files, executables and symlinks',
    )
    .argument('<file>', 'a layer zip, or an image tarball written by `yumda image --oci/--docker-archive`')
    .option('--top <n>', 'how many of the largest files, executables and symlinks to list', '10')
    .option('--all', 'list every file, executable and symlink')
    .option('--json', 'machine-readable report on stdout');
}

function declareDiff(program: Command) {
  return program
    .command('diff')
    .description('What changed between two layers: packages (from their manifests) and files (added, removed, changed)')
    .argument('<a>', 'the old layer zip or image tarball')
    .argument('<b>', 'the new one')
    .option('--top <n>', 'how many files of each kind to list', '20')
    .option('--all', 'list every changed file')
    .option('--exit-code', 'exit with 1 when the layers differ (like git diff --exit-code)')
    .option('--json', 'machine-readable diff on stdout');
}

export type InspectOptions = OptionsOf<ReturnType<typeof declareInspect>>;
export type DiffOptions = OptionsOf<ReturnType<typeof declareDiff>>;

export function registerInspect(program: Command): void {
  declareInspect(program).action((file, opts) => inspectCommand(file, opts));
}

export function registerDiff(program: Command): void {
  declareDiff(program).action((a, b, opts) => diffCommand(a, b, opts));
}

/** How many of each kind to list: --top's number, or every one with --all (inspect and diff alike). */
function topOf(opts: Pick<InspectOptions | DiffOptions, 'top' | 'all'>): number {
  if (opts.all) return Infinity;
  const n = Number(opts.top);
  if (!Number.isInteger(n) || n < 0) throw new UserError(`--top ${opts.top}: expected a whole number`);
  return n;
}

/** `yumda inspect FILE`: what a layer zip or image tarball holds, and how it measures up to Lambda's limits. */
export async function inspectCommand(file: string, opts: InspectOptions): Promise<void> {
  const top = topOf(opts);
  const layer = await openLayer(path.resolve(file));
  const report = { ...inspectLayer(layer), file };
  if (opts.json) {
    process.stdout.write(JSON.stringify(report, null, 2) + '\n');
    return;
  }
  process.stdout.write(formatInspect(report, top) + '\n');
}

/** `yumda diff A B`: what changed between two layers. */
export async function diffCommand(a: string, b: string, opts: DiffOptions): Promise<void> {
  const top = topOf(opts);
  const [la, lb] = [await openLayer(path.resolve(a)), await openLayer(path.resolve(b))];
  const d = diffLayers({ ...la, file: a }, { ...lb, file: b });
  if (opts.json) process.stdout.write(JSON.stringify(d, (k, v) => (k === 'hostPath' ? undefined : v), 2) + '\n');
  else process.stdout.write(formatDiff(d, top) + '\n');
  if (opts.exitCode && !isEmptyDiff(d)) process.exitCode = 1;
}
