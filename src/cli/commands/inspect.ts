import path from 'node:path';
import { diffLayers, formatDiff, isEmptyDiff } from '../../inspect/diff.js';
import { formatInspect, inspectLayer } from '../../inspect/report.js';
import { openLayer } from '../../layer/open.js';
import { UserError } from '../../util/errors.js';

export interface ListingOptions {
  json?: boolean;
  top: string;
  all?: boolean;
}

function topOf(opts: ListingOptions): number {
  if (opts.all) return Infinity;
  const n = Number(opts.top);
  if (!Number.isInteger(n) || n < 0) throw new UserError(`--top ${opts.top}: expected a whole number`);
  return n;
}

/** `yumda inspect FILE`: what a layer zip or image tarball holds, and how it measures up to Lambda's limits. */
export async function inspectCommand(file: string, opts: ListingOptions): Promise<void> {
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
export async function diffCommand(a: string, b: string, opts: ListingOptions & { exitCode?: boolean }): Promise<void> {
  const top = topOf(opts);
  const [la, lb] = [await openLayer(path.resolve(a)), await openLayer(path.resolve(b))];
  const d = diffLayers({ ...la, file: a }, { ...lb, file: b });
  if (opts.json) process.stdout.write(JSON.stringify(d, (k, v) => (k === 'hostPath' ? undefined : v), 2) + '\n');
  else process.stdout.write(formatDiff(d, top) + '\n');
  if (opts.exitCode && !isEmptyDiff(d)) process.exitCode = 1;
}
