import type { Command } from '@commander-js/extra-typings';
import { buildLayer, type BuildEvents } from '../../pipeline/build.js';
import { parseArch } from '../../registry/arch.js';
import { DEFAULT_TARGET, loadTarget } from '../../registry/load.js';
import { closureWithRecommends } from '../../pipeline/query.js';
import { chainsWithRecommends, formatChain, shortestChains } from '../../resolve/chains.js';
import { UserError } from '../../util/errors.js';
import { shortList } from '../../util/format.js';
import { printable } from '../../util/printable.js';
import { Reporter, outputMode } from '../ui.js';
import { buildRequest, parsePackageArg } from '../build-options.js';
import { collect, type OptionsOf } from '../options.js';
import { buildSpec, querySpec } from '../../pipeline/request.js';

function declareWhy(program: Command) {
  return program
    .command('why')
    .description(
      'Print the dependency chains that pull a package into the plan of the requested ones: the shortest from each requested package, ' +
        'as `yumda install --dry-run` resolves them (the resolved plan is reused for an hour).',
    )
    .argument('<package>', 'the package to explain')
    .argument('<requested...>', 'the packages you would install')
    .option('-t, --target <id>', 'target distribution and runtime (see `yumda targets`)', DEFAULT_TARGET)
    .option('-a, --arch <arch>', 'x86_64 or arm64', 'x86_64')
    .option('--from <target>', 'resolve as a self-contained layer from this distribution would (`install --from`)')
    .option('--build-image <ref>', "use this image to run the package manager instead of the target's")
    .option('--repo <url>', 'extra package repository, as `install --repo` (repeatable)', collect, [])
    .option('--no-default-repos', "use only the --repo repositories, not the target's")
    .option('--runtime-manifest <file>', "use this runtime manifest instead of the target's")
    .option('--network <mode>', 'Docker network mode for the build container (env YUMDA_DOCKER_NETWORK)')
    .option('--refresh', 'fetch repository metadata and resolve again even if the cached ones are fresh')
    .option('--local', 'run the package manager on this machine (the target distribution) instead of a build container')
    .option('--cache-dir <dir>', 'cache directory (default: $XDG_CACHE_HOME/yumda or ~/.cache/yumda)')
    .option('--limit <n>', 'print at most this many chains', '5')
    .option('--json', 'print the chains as JSON on stdout')
    .option('-q, --quiet', 'print nothing but the chains and errors')
    .addHelpText('after', '\nExample:\n  yumda why libgs10 imagemagick --target debian12\n    imagemagick → imagemagick-6.q16 → libmagickcore-6.q16-6 → libgs10\n');
}

export type WhyOptions = OptionsOf<ReturnType<typeof declareWhy>>;

/** `yumda why PACKAGE REQUESTED...`: the chains that pull a package into a plan. */
export function registerWhy(program: Command): void {
  declareWhy(program).action((pkg, requested, opts) => whyCommand(pkg, requested, opts));
}

export async function whyCommand(pkg: string, requested: string[], opts: WhyOptions): Promise<void> {
  const limit = Number(opts.limit);
  if (!Number.isInteger(limit) || limit < 1) throw new UserError(`--limit '${opts.limit}': expected a whole number of at least 1`);
  const target = loadTarget(opts.target);
  const family = loadTarget(opts.from ?? target.id).family;
  const wanted = parsePackageArg(pkg, family).name;
  const requests = requested.map((r) => parsePackageArg(r, family));
  const ui = new Reporter(outputMode(opts));
  // the plan as install --dry-run resolves it, without printing it: the chains are the answer
  const events: BuildEvents = { step: ui.step, detail: ui.detail, progress: ui.progress, warn: (l) => ui.warn(l), plan: () => undefined };
  const result = await buildLayer(buildSpec({ ...buildRequest(requests, target.id, parseArch(opts.arch), opts), local: opts.local, dryRun: true }), events);
  ui.done();
  const { plan } = result;
  const roots = result.requests.map((r) => r.name);
  const chains = shortestChains(plan.packages, roots, wanted, limit);
  const of = `the plan of ${shortList(roots, 3)} for ${result.target.id} ${result.arch.lambda}`;
  if (chains.length === 0) {
    const runtime = result.from ? undefined : result.runtime;
    if (runtime?.packages.some((p) => p.name === wanted || p.provides?.includes(wanted)))
      throw new UserError(`${wanted} is not in ${of}: the ${runtime.id} runtime has it, so the layer does not ship it`);
    // yumda installs no recommended package: a package only recommended somewhere along the way is left out
    const weak = await closureWithRecommends(
      // as the plan was resolved, but from the metadata it just read: no --refresh again
      querySpec({
        target: target.id,
        arch: result.arch,
        repos: opts.repo,
        defaultRepos: opts.defaultRepos,
        buildImage: opts.buildImage,
        network: opts.network,
        local: opts.local,
        from: opts.from,
        runtimeManifest: opts.runtimeManifest,
      }),
      result.requests,
      events,
    );
    ui.done();
    const recommended = weak ? chainsWithRecommends(weak, roots, wanted, limit) : [];
    if (recommended.length === 0) {
      throw new UserError(`${wanted} is not in ${of} (${plan.packages.length} package${plan.packages.length === 1 ? '' : 's'}; \`yumda install --dry-run\` lists them)`);
    }
    // the first package only recommended along the chain: adding it to the request brings the rest
    const firstWeak = (c: (typeof recommended)[number]) => c.find((s) => s.via === 'recommends')!.name;
    const add = [...new Set(recommended.map(firstWeak))];
    if (opts.json) {
      process.stdout.write(
        JSON.stringify({ target: result.target.id, arch: result.arch.lambda, package: wanted, requested: roots, inPlan: false, chains: recommended, add }, null, 2) + '\n',
      );
      return;
    }
    process.stdout.write(
      `${wanted} is not in ${of}: it would come only through a recommended package, and yumda installs none; add ${shortList(add, 3)} to the packages to ship it\n`,
    );
    for (const c of recommended) process.stdout.write(printable(formatChain(c)) + '\n');
    return;
  }
  if (opts.json) {
    process.stdout.write(
      JSON.stringify(
        {
          target: result.target.id,
          arch: result.arch.lambda,
          package: wanted,
          requested: roots,
          inPlan: true,
          chains: chains.map((c) => c.map((name, i) => (i ? { name, via: 'depends' } : { name }))),
        },
        null,
        2,
      ) + '\n',
    );
    return;
  }
  for (const c of chains) process.stdout.write(printable(c.join(' → ')) + '\n');
}
