import type { Command } from '@commander-js/extra-typings';
import { searchPackages } from '../../pipeline/query.js';
import { querySpec } from '../../pipeline/request.js';
import { parseArch } from '../../registry/arch.js';
import { DEFAULT_TARGET } from '../../registry/load.js';
import type { SearchHit } from '../../resolve/search.js';
import { UserError } from '../../util/errors.js';
import { printable } from '../../util/printable.js';
import { Reporter, outputMode } from '../ui.js';
import { collect, type OptionsOf } from '../options.js';

function declareSearch(program: Command) {
  return program
    .command('search')
    .description(
      "List the packages of the target's repositories whose name or summary holds every word, with the version a build would take: " +
        'the exact name first, then names that start with or contain a word, then summary matches. ' +
        'Reads the repository metadata as a build does (reused for an hour).',
    )
    .argument('<words...>', 'words to look for (case-insensitive; literal, not patterns)')
    .option('-t, --target <id>', 'target whose repositories to search (see `yumda targets`)', DEFAULT_TARGET)
    .option('-a, --arch <arch>', 'x86_64 or arm64', 'x86_64')
    .option('--repo <url>', 'also search this repository, as `install --repo` (repeatable)', collect, [])
    .option('--no-default-repos', "search only the --repo repositories, not the target's")
    .option('--build-image <ref>', "use this image to run the package manager instead of the target's")
    .option('--network <mode>', 'Docker network mode for the build container (env YUMDA_DOCKER_NETWORK)')
    .option('--refresh', 'fetch the repository metadata even if the cached one is fresh')
    .option('--local', 'run the package manager on this machine (the target distribution) instead of a build container')
    .option('--limit <n>', 'list at most this many packages', '20')
    .option('--json', 'print the matches as JSON on stdout')
    .option('-q, --quiet', 'print nothing but the matches and errors')
    .addHelpText('after', '\nExamples:\n  yumda search jq --target debian12\n  yumda search pdf render --json\n');
}

export type SearchOptions = OptionsOf<ReturnType<typeof declareSearch>>;

/** `yumda search WORD...`: the packages of the target's repositories that match. */
export function registerSearch(program: Command): void {
  declareSearch(program).action((words, opts) => searchCommand(words, opts));
}

export async function searchCommand(words: string[], opts: SearchOptions): Promise<void> {
  const limit = Number(opts.limit);
  if (!Number.isInteger(limit) || limit < 1) throw new UserError(`--limit '${opts.limit}': expected a whole number of at least 1`);
  const blank = words.find((w) => !w.trim());
  if (blank !== undefined) throw new UserError('an empty search word matches everything: give words to look for');
  const ui = new Reporter(outputMode(opts));
  const { hits, total, ctx } = await searchPackages(
    querySpec({
      target: opts.target,
      arch: parseArch(opts.arch),
      repos: opts.repo,
      defaultRepos: opts.defaultRepos,
      buildImage: opts.buildImage,
      network: opts.network,
      refresh: opts.refresh,
      local: opts.local,
    }),
    words,
    limit,
    ui,
  );
  ui.done();
  // like grep: finding nothing is a failure a script can test
  if (hits.length === 0) throw new UserError(`no package of the ${ctx.target.id} repositories has ${words.map((w) => `'${w}'`).join(' and ')} in its name or summary`);
  if (opts.json) {
    process.stdout.write(JSON.stringify({ target: ctx.target.id, arch: ctx.arch.lambda, words, total, packages: hits }, null, 2) + '\n');
    return;
  }
  process.stdout.write(formatHits(hits));
  if (total > hits.length) process.stdout.write(`… and ${total - hits.length} more (--limit ${total} lists them all)\n`);
}

/** One line per package: name, version and summary in columns (the summary cut to fit a terminal's line). */
export function formatHits(hits: readonly SearchHit[], width = process.stdout.columns ?? 120): string {
  const rows = hits.map((h) => [printable(h.name), printable(h.version), printable(h.summary)] as const);
  const w0 = Math.max(...rows.map((r) => r[0].length));
  const w1 = Math.max(...rows.map((r) => r[1].length));
  return rows
    .map(([n, v, s]) => {
      const head = `${n.padEnd(w0)}  ${v.padEnd(w1)}  `;
      const room = Math.max(20, width - head.length);
      return (head + (s.length > room ? s.slice(0, room - 1) + '…' : s)).trimEnd() + '\n';
    })
    .join('');
}
