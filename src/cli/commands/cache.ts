import { cacheUsage, cleanCache } from '../../cache/info.js';
import { existsSync } from 'node:fs';
import { cachePaths } from '../../cache/paths.js';
import { whileNoBuildRuns } from '../../cache/users.js';
import { formatBytes } from '../../util/format.js';
import { UserError } from '../../util/errors.js';
import { noun } from '../../util/plural.js';

const PARTS = ['content', 'packages', 'plans', 'postStage', 'scripts', 'zips', 'packs'] as const;
type Part = (typeof PARTS)[number];

export async function cacheInfoCommand(opts: { cacheDir?: string; json?: boolean }): Promise<void> {
  const paths = cachePaths(opts.cacheDir);
  const parts = await cacheUsage(paths);
  if (opts.json) {
    process.stdout.write(JSON.stringify({ root: paths.root, parts }, null, 2) + '\n');
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
    zips: 'finished layer zips by layer digest',
    packs: 'records of packed trees (the archives are in content)',
  };
  for (const p of parts)
    process.stdout.write(`  ${p.name.padEnd(10)} ${formatBytes(p.bytes).padStart(10)}  ${String(p.files).padStart(6)} ${noun(p.files, 'file').padEnd(5)}  ${what[p.name]}\n`);
  process.stdout.write('Repository metadata is kept in Docker volumes named yumda-apt-lists-* (apt) and yumda-rpm-cache-* (dnf, yum).\n');
}

export async function cacheCleanCommand(opts: { cacheDir?: string; only?: string[] }): Promise<void> {
  const paths = cachePaths(opts.cacheDir);
  const only = opts.only?.length ? opts.only : [...PARTS];
  for (const o of only) if (!(PARTS as readonly string[]).includes(o)) throw new UserError(`unknown cache part '${o}'`, { hint: `parts: ${PARTS.join(', ')}` });
  // nothing there, nothing to wait for
  if (existsSync(paths.root))
    await whileNoBuildRuns(
      paths.root,
      () => cleanCache(paths, only as Part[]),
      (line) => process.stderr.write(`${line}\n`),
    );
  process.stdout.write(`removed ${only.join(', ')} from ${paths.root}\n`);
}
