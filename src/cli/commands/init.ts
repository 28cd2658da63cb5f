import { existsSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Command } from '@commander-js/extra-typings';
import { layerNameFor, manifestTemplate } from '../../project/init.js';
import { MANIFEST_NAMES, parseManifestText, manifestJobs } from '../../project/manifest.js';
import { parseArch } from '../../registry/arch.js';
import { DEFAULT_TARGET, loadTarget } from '../../registry/load.js';
import { UserError } from '../../util/errors.js';
import { parsePackageArg } from '../build-options.js';
import type { OptionsOf } from '../options.js';

function declareInit(program: Command) {
  return program
    .command('init')
    .description('Write a commented yumda.yaml in the current directory declaring one layer of these packages, for `yumda build`')
    .argument('<packages...>', 'package names, optionally pinned as NAME=VERSION (`yumda search` finds names)')
    .option('-t, --target <id>', 'target distribution and runtime (see `yumda targets`)', DEFAULT_TARGET)
    .option('-a, --arch <arch>', 'x86_64 or arm64', 'x86_64')
    .option('-n, --name <layer>', 'the layer name (default: the first package)')
    .option('--force', 'replace an existing yumda.yaml')
    .addHelpText('after', '\nExamples:\n  yumda init jq --target debian12 && yumda build\n  yumda init poppler-utils ghostscript --name pdf\n');
}

export type InitOptions = OptionsOf<ReturnType<typeof declareInit>>;

/** `yumda init PACKAGE...`: a yumda.yaml declaring one layer of them. */
export function registerInit(program: Command): void {
  declareInit(program).action((packages, opts) => initCommand(packages, opts, process.cwd()));
}

export function initCommand(packages: string[], opts: InitOptions, dir: string): void {
  const target = loadTarget(opts.target);
  const arch = parseArch(opts.arch).lambda;
  if (!target.architectures.includes(arch)) throw new UserError(`target ${target.id} has no ${arch} build (its architectures: ${target.architectures.join(', ')})`);
  const requests = packages.map((p) => parsePackageArg(p, target.family));
  if (opts.name !== undefined && !/^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/.test(opts.name))
    throw new UserError(`--name '${opts.name}': a layer name is letters, digits, '-' and '_', at most 64, starting with a letter or digit`);
  const name = opts.name ?? layerNameFor(requests[0]!.name);
  const file = path.join(dir, 'yumda.yaml');
  const others = MANIFEST_NAMES.filter((n) => n !== 'yumda.yaml' && existsSync(path.join(dir, n)));
  // two manifests in one directory is an error for every later command: --force replaces yumda.yaml only
  if (others.length) throw new UserError(`${others.join(' and ')} already declares this directory's layers: edit it, or remove it first`);
  if (existsSync(file) && !opts.force) throw new UserError(`yumda.yaml already exists in ${dir}: edit it, or pass --force to replace it`);
  const text = manifestTemplate({ name, target, arch, packages: requests });
  // what is written must load, by the same checks as `yumda build`
  manifestJobs(parseManifestText(text, file), file);
  writeFileSync(file, text);
  process.stdout.write(`Wrote ${file}: layer '${name}' (${target.id} ${arch}, ${requests.length} package${requests.length === 1 ? '' : 's'}); \`yumda build\` builds it\n`);
}
