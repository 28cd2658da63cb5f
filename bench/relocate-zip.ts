/**
 * Relocation and zip writing alone, in this process, on a staged tree from a warm cache: the part
 * of a build that is pure TypeScript, without the engine, metadata or downloads around it. Used by
 * `npm run bench` (run.ts), and on its own to time the two apart and to show that a change left
 * the layer's bytes alone (the zip's SHA-256):
 *
 *   node dist/bench/relocate-zip.js --cache-dir DIR [--runs N] [--deflated] PACKAGE...
 *
 * DIR is the --cache-dir of an earlier `yumda install PACKAGE... --target debian12`.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ContentStore } from '../src/cache/content-store.js';
import { JsonStore } from '../src/cache/json-store.js';
import { PackageCache } from '../src/cache/packages.js';
import { cachePaths } from '../src/cache/paths.js';
import { writeLayerZip } from '../src/emit/zip.js';
import { DeflatedCache } from '../src/emit/deflated.js';
import type { CachedPlan } from '../src/pipeline/build.js';
import { applicableRecipes, loadRecipes } from '../src/recipes/load.js';
import { parseAlternatives, type Alternative } from '../src/relocate/alternatives.js';
import { DEFAULT_KEEP } from '../src/relocate/placement.js';
import { relocate } from '../src/relocate/relocate.js';
import { loadRuntime } from '../src/registry/load.js';
import type { FileTree } from '../src/tree/types.js';

export interface RelocateZipRun {
  relocateSeconds: number;
  zipSeconds: number;
  /** Both: what `npm run bench` reports as relocate + zip. */
  seconds: number;
  /** The zip's SHA-256: equal before and after a change that must not change the layer. */
  zipSha256: string;
}

/** The staged tree of the cached plan that requested exactly `packages`, as a build would assemble it. */
function stagedTree(cacheDir: string, packages: string[]) {
  const paths = cachePaths(cacheDir);
  const store = new ContentStore(paths.content);
  const pc = new PackageCache(paths.packages, store, (w) => console.warn(w));
  const plans = new JsonStore<CachedPlan>(paths.plans, 'cache-plan');
  const plan = readdirSync(paths.plans)
    .filter((f) => f.endsWith('.json'))
    .flatMap((f) => {
      const hit = plans.get(f.slice(0, -'.json'.length));
      return hit && 'value' in hit ? [hit.value.plan] : [];
    })
    .find((p) => packages.every((n) => p.packages.some((x) => x.name === n && x.requested)) && p.packages.filter((x) => x.requested).length === packages.length);
  if (!plan) throw new Error(`no cached plan in ${cacheDir} for exactly ${packages.join(' ')}`);
  const staged: FileTree = new Map();
  const alternatives: Alternative[] = [];
  for (const p of [...plan.packages].sort((a, b) => a.name.localeCompare(b.name))) {
    const u = pc.get(p);
    if (!u) throw new Error(`${p.name} is not in the package cache of ${cacheDir}`);
    for (const [k, e] of u.tree) staged.set(k, e);
    alternatives.push(...parseAlternatives(u.alternatives));
  }
  return { staged, alternatives, plan, store };
}

/**
 * One relocation of the cached tree of `packages` and its zip, each timed. `deflated`: the zip
 * takes the deflated copies earlier zips of the cache left (emit/deflated.ts), as a build's does;
 * without it every file is deflated, which is what a first zip of new content costs.
 */
export async function relocateAndZip(cacheDir: string, packages: string[], opts: { deflated?: boolean } = {}): Promise<RelocateZipRun> {
  const { staged, alternatives, plan, store } = stagedTree(cacheDir, packages);
  const recipes = applicableRecipes(loadRecipes(), 'deb', plan.packages);
  const runtime = loadRuntime('debian12');
  const dir = mkdtempSync(path.join(os.tmpdir(), 'yumda-bench-'));
  try {
    const out = path.join(dir, 'l.zip');
    const t0 = process.hrtime.bigint();
    const { layer } = relocate({ staged, layout: { triplet: 'x86_64-linux-gnu', keep: DEFAULT_KEEP }, recipes, shell: runtime.shell, alternatives, save: (d) => store.save(d) });
    const t1 = process.hrtime.bigint();
    const deflated = opts.deflated ? new DeflatedCache(path.join(cachePaths(cacheDir).zips, 'deflated'), (w) => console.warn(w)) : undefined;
    await writeLayerZip(layer, out, undefined, deflated);
    const t2 = process.hrtime.bigint();
    const zipSha256 = createHash('sha256').update(readFileSync(out)).digest('hex');
    return { relocateSeconds: Number(t1 - t0) / 1e9, zipSeconds: Number(t2 - t1) / 1e9, seconds: Number(t2 - t0) / 1e9, zipSha256 };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const take = (flag: string) => {
    const i = args.indexOf(flag);
    if (i < 0) return undefined;
    const v = args[i + 1];
    args.splice(i, 2);
    return v;
  };
  const cacheDir = take('--cache-dir');
  const runs = Number(take('--runs') ?? 5);
  const deflated = args.includes('--deflated');
  if (deflated) args.splice(args.indexOf('--deflated'), 1);
  if (!cacheDir || args.length === 0) throw new Error('usage: relocate-zip.js --cache-dir DIR [--runs N] [--deflated] PACKAGE...');
  const all: RelocateZipRun[] = [];
  for (let i = 0; i < runs; i++) {
    const r = await relocateAndZip(cacheDir, args, { deflated });
    all.push(r);
    console.log(`run ${i + 1}: relocate ${r.relocateSeconds.toFixed(2)} s, zip ${r.zipSeconds.toFixed(2)} s, both ${r.seconds.toFixed(2)} s, zip sha256 ${r.zipSha256}`);
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)]!;
  console.log(
    `median of ${runs}: relocate ${median(all.map((r) => r.relocateSeconds)).toFixed(2)} s, zip ${median(all.map((r) => r.zipSeconds)).toFixed(2)} s, both ${median(all.map((r) => r.seconds)).toFixed(2)} s`,
  );
  if (new Set(all.map((r) => r.zipSha256)).size !== 1) throw new Error('the runs wrote different zips');
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) await main();
