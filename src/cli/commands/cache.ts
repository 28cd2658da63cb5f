import type { Command } from '@commander-js/extra-typings';
import { cacheUsage, cleanCache } from '../../cache/info.js';
import { existsSync } from 'node:fs';
import { cachePaths } from '../../cache/paths.js';
import { whileNoBuildRuns } from '../../cache/users.js';
import { formatBytes } from '../../util/format.js';
import { UserError } from '../../util/errors.js';
import { noun, plural } from '../../util/plural.js';
import { listMetadataVolumes, type MetadataVolume, removeMetadataVolumes } from '../../cache/metadata-volumes.js';
import type { Docker } from '../../docker/client.js';
import { collect, type OptionsOf } from '../options.js';

/** The engine, loaded only when a cache command needs it. */
async function engine(): Promise<Docker> {
  const { connectEngine } = await import('../../docker/engine.js');
  return connectEngine();
}

/** The metadata volumes, or why they could not be listed (an engine that is not running is no error for `info`). */
async function metadataVolumesOrWhy(): Promise<MetadataVolume[] | { unknown: string }> {
  try {
    return await listMetadataVolumes(await engine());
  } catch (e) {
    return { unknown: e instanceof UserError ? e.message : String((e as Error).message ?? e) };
  }
}

const PARTS = ['content', 'packages', 'plans', 'postStage', 'scripts', 'zips', 'packs'] as const;
type Part = (typeof PARTS)[number];
/** The largest metadata volumes `cache info` names; one per target and repository set can add up. */
const SHOWN_VOLUMES = 8;

function declareCache(program: Command) {
  return program.command('cache').description('The build cache: packages, plans, zips (default $XDG_CACHE_HOME/yumda or ~/.cache/yumda)');
}

function declareInfo(cache: ReturnType<typeof declareCache>) {
  return cache.command('info').description('Show what the cache holds and its size').option('--cache-dir <dir>', 'cache directory').option('--json', 'machine-readable output');
}

function declareClean(cache: ReturnType<typeof declareCache>) {
  return cache
    .command('clean')
    .description('Empty the cache (or --only some parts of it)')
    .option('--cache-dir <dir>', 'cache directory')
    .option('--only <part>', 'content, packages, plans, postStage, scripts, zips or packs (repeatable)', collect, [])
    .option('--metadata', "also remove the repository metadata volumes (the engine's, shared by every cache directory; fetched again by the next build)");
}

export type CacheInfoOptions = OptionsOf<ReturnType<typeof declareInfo>>;
export type CacheCleanOptions = OptionsOf<ReturnType<typeof declareClean>>;

/** `yumda cache info` and `yumda cache clean`. */
export function registerCache(program: Command): void {
  const cache = declareCache(program);
  declareInfo(cache).action((opts) => cacheInfoCommand(opts));
  declareClean(cache).action((opts) => cacheCleanCommand(opts));
}

export async function cacheInfoCommand(opts: CacheInfoOptions): Promise<void> {
  const paths = cachePaths(opts.cacheDir);
  const parts = await cacheUsage(paths);
  const volumes = await metadataVolumesOrWhy();
  if (opts.json) {
    process.stdout.write(JSON.stringify({ root: paths.root, parts, metadataVolumes: 'unknown' in volumes ? null : volumes }, null, 2) + '\n');
    return;
  }
  const total = parts.reduce((n, p) => n + p.bytes, 0);
  process.stdout.write(`${paths.root}: ${formatBytes(total)}\n`);
  const what: Record<Part, string> = {
    content: 'file contents by SHA-256',
    packages: 'unpacked packages (indexes into content)',
    plans: 'resolved plans',
    postStage: 'output of recipe commands',
    scripts: 'what maintainer scripts generated (indexes into content)',
    zips: 'finished layer zips by layer digest, and the builds that made them',
    packs: 'records of packed trees (the archives are in content)',
  };
  for (const p of parts)
    process.stdout.write(`  ${p.name.padEnd(10)} ${formatBytes(p.bytes).padStart(10)}  ${String(p.files).padStart(6)} ${noun(p.files, 'file').padEnd(5)}  ${what[p.name]}\n`);
  if ('unknown' in volumes) {
    process.stdout.write(`Repository metadata is kept in Docker volumes (yumda-apt-lists-*, yumda-rpm-cache-*), not sized: ${volumes.unknown}\n`);
    return;
  }
  const bytes = volumes.reduce((n, v) => n + Math.max(0, v.bytes), 0);
  process.stdout.write(`Repository metadata in Docker volumes: ${formatBytes(bytes)} in ${plural(volumes.length, 'volume')} (cache clean --metadata removes them)\n`);
  const largest = [...volumes].sort((a, b) => b.bytes - a.bytes);
  for (const v of largest.slice(0, SHOWN_VOLUMES))
    process.stdout.write(`  ${v.bytes < 0 ? '?'.padStart(10) : formatBytes(v.bytes).padStart(10)}  ${v.name}${v.users ? ' (in use)' : ''}\n`);
  if (largest.length > SHOWN_VOLUMES) process.stdout.write(`  … and ${plural(largest.length - SHOWN_VOLUMES, 'smaller one')} (--json lists them all)\n`);
}

export async function cacheCleanCommand(opts: CacheCleanOptions): Promise<void> {
  const paths = cachePaths(opts.cacheDir);
  // the engine first: one that is not reachable stops the command before anything is removed
  const docker = opts.metadata ? await engine() : undefined;
  const only = opts.only.length ? opts.only : [...PARTS];
  for (const o of only) if (!(PARTS as readonly string[]).includes(o)) throw new UserError(`unknown cache part '${o}'`, { hint: `parts: ${PARTS.join(', ')}` });
  // nothing there, nothing to wait for
  if (existsSync(paths.root))
    await whileNoBuildRuns(
      paths.root,
      () => cleanCache(paths, only as Part[]),
      (line) => process.stderr.write(`${line}\n`),
    );
  process.stdout.write(`removed ${only.join(', ')} from ${paths.root}\n`);
  if (!docker) return;
  const { removed, inUse } = await removeMetadataVolumes(docker, await listMetadataVolumes(docker));
  process.stdout.write(`removed ${plural(removed.length, 'repository metadata volume')}${removed.length ? `: ${removed.join(', ')}` : ''}\n`);
  if (inUse.length) process.stderr.write(`warning: left ${inUse.join(', ')}: a running build uses ${inUse.length === 1 ? 'it' : 'them'}\n`);
}
