import { type Command, Option } from '@commander-js/extra-typings';
import { writeFileSync } from 'node:fs';
import { connectEngine } from '../../docker/engine.js';
import { inventoryImage, refreshedRuntime } from '../../registry/refresh.js';
import { loadRuntime, runtimeFile } from '../../registry/load.js';
import { writeAtomically } from '../../util/atomic.js';
import { checkOutputs, outputRule } from '../../emit/outputs.js';
import path from 'node:path';
import { plural } from '../../util/plural.js';
import type { OptionsOf } from '../options.js';

function declareRuntime(program: Command) {
  return program.command('runtime').description('Runtime manifests: what each Lambda runtime already provides');
}

function declareRefresh(runtime: ReturnType<typeof declareRuntime>) {
  return runtime
    .command('refresh')
    .description("Regenerate a runtime manifest from a runtime image's package database")
    .argument('<image>', 'the runtime image to read (it must exist in the Docker engine)')
    .requiredOption('--runtime <id>', 'which manifest in registry/runtimes/ to regenerate')
    .option('--out <file>', 'write here instead of registry/runtimes/<id>.json')
    .addOption(new Option('--date <yyyy-mm-dd>', 'date to record (default: today)').hideHelp());
}

export type RuntimeRefreshOptions = OptionsOf<ReturnType<typeof declareRefresh>>;

/** `yumda runtime refresh IMAGE --runtime ID`. */
export function registerRuntime(program: Command): void {
  declareRefresh(declareRuntime(program)).action((image, opts) => runtimeRefreshCommand(image, opts));
}

/** Regenerates registry/runtimes/<id>.json from a real runtime image's package database. */
export async function runtimeRefreshCommand(image: string, opts: RuntimeRefreshOptions): Promise<void> {
  const base = loadRuntime(opts.runtime);
  const target = { path: path.resolve(opts.out ?? runtimeFile(opts.runtime)), kind: 'runtime' as const, what: opts.out ? '--out' : `the ${opts.runtime} runtime manifest` };
  await checkOutputs([target]);
  const docker = await connectEngine();
  const inv = await inventoryImage(docker, image, base.family);
  const runtime = refreshedRuntime(base, image, inv, opts.date ?? new Date().toISOString().slice(0, 10));
  const dest = opts.out ?? runtimeFile(opts.runtime);
  await writeAtomically(dest, async (tmp) => writeFileSync(tmp, JSON.stringify(runtime, null, 2) + '\n'), outputRule(target));
  process.stdout.write(`${dest}: ${plural(runtime.packages.length, 'package')}, ${plural(runtime.libraries.length, 'library')}, from ${image}\n`);
}
