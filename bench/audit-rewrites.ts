/**
 * An audit of what relocation changes inside binaries (`npm run audit:rewrites -- <package>…`):
 * builds each package (or `a+b` set) for debian12 with the CLI, so its staged tree is in the
 * cache, relocates it again in this process, and compares every ELF file of the layer with the
 * package's original byte for byte. Each run of changed bytes is one of: a root swap (the first
 * four bytes of a `/usr`, `/etc` or `/var` path, become `/opt`, `/tmp` or `////`), a library-path edit (program headers, the
 * dynamic section, the RPATH string and the padding it moves into), or something else. "Something
 * else" is what changes bytes a merged string may share: issue 20 found it corrupting ld.
 * Not a test: it needs the Debian mirror and minutes per package.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ContentStore } from '../src/cache/content-store.js';
import { JsonStore } from '../src/cache/json-store.js';
import { PackageCache } from '../src/cache/packages.js';
import { cachePaths } from '../src/cache/paths.js';
import { isElf, parseElf } from '../src/elf/read.js';
import type { CachedPlan } from '../src/pipeline/build.js';
import { applicableRecipes, loadRecipes } from '../src/recipes/load.js';
import { loadRuntime } from '../src/registry/load.js';
import { parseAlternatives } from '../src/relocate/alternatives.js';
import { DEFAULT_KEEP, place } from '../src/relocate/placement.js';
import { relocate } from '../src/relocate/relocate.js';
import { readContent, type FileTree } from '../src/tree/types.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const cli = path.join(root, 'dist/bundle/yumda.js');
const triplet = 'x86_64-linux-gnu';

interface Tally {
  set: string;
  binaries: number;
  changedBinaries: number;
  rootSwaps: number;
  libraryPathEdits: number;
  /** Runs of changed bytes that are neither: each with the file and the bytes before and after. */
  beyond: Array<{ file: string; offset: number; before: string; after: string }>;
}

function build(packages: string[], cacheDir: string): void {
  const out = path.join(mkdtempSync(path.join(os.tmpdir(), 'yumda-audit-')), 'l');
  const r = spawnSync(process.execPath, [cli, 'install', ...packages, '--target', 'debian12', '--out-dir', out, '--cache-dir', cacheDir, '--quiet', '--force'], {
    env: { ...process.env, YUMDA_DOCKER_NETWORK: process.env.YUMDA_DOCKER_NETWORK ?? 'host' },
    encoding: 'utf8',
  });
  execFileSync('rm', ['-rf', path.dirname(out)]);
  if (r.status !== 0) throw new Error(`yumda install ${packages.join(' ')} failed: ${r.stderr.trim().split('\n').pop()}`);
}

function stagedTree(cacheDir: string, packages: string[]): { staged: FileTree; plan: CachedPlan['plan']; alternatives: ReturnType<typeof parseAlternatives> } {
  const paths = cachePaths(cacheDir);
  const store = new ContentStore(paths.content);
  const pc = new PackageCache(paths.packages, store, () => {});
  const plans = new JsonStore<CachedPlan>(paths.plans, 'cache-plan');
  const keys = (execFileSync('ls', [paths.plans], { encoding: 'utf8' }) as string)
    .split('\n')
    .filter((f) => f.endsWith('.json'))
    .map((f) => f.slice(0, -5));
  const plan = keys
    .flatMap((k) => {
      const hit = plans.get(k);
      return hit && 'value' in hit ? [hit.value.plan] : [];
    })
    .find((p) => packages.every((n) => p.packages.some((x) => x.name === n && x.requested)) && p.packages.filter((x) => x.requested).length === packages.length);
  if (!plan) throw new Error(`no cached plan for ${packages.join(' ')}`);
  const staged: FileTree = new Map();
  const alternatives = [];
  for (const p of [...plan.packages].sort((a, b) => a.name.localeCompare(b.name))) {
    const u = pc.get(p);
    if (!u) throw new Error(`${p.name} is not in the cache`);
    for (const [k, e] of u.tree) staged.set(k, e);
    alternatives.push(...parseAlternatives(u.alternatives));
  }
  return { staged, plan, alternatives };
}

/** Byte ranges a library-path edit may touch: program headers, .dynamic, the (moved) RPATH string. */
function libraryPathRanges(after: Buffer, before: Buffer): Array<[number, number]> {
  const elf = parseElf(after);
  const is64 = elf.class === 64;
  const u16 = (o: number) => (elf.littleEndian ? after.readUInt16LE(o) : after.readUInt16BE(o));
  const phoff = is64 ? Number(after.readBigUInt64LE(32)) : after.readUInt32LE(28);
  const ranges: Array<[number, number]> = [[phoff, phoff + u16(is64 ? 54 : 42) * u16(is64 ? 56 : 44)]];
  for (const s of elf.sections) if (s.name === '.dynamic') ranges.push([s.offset, s.offset + s.size]);
  for (const s of elf.segments) if (s.type === 2) ranges.push([s.offset, s.offset + s.filesz]);
  for (const r of [elf.dynamic?.rpath, elf.dynamic?.runpath]) if (r) ranges.push([r.offset, r.offset + r.value.length + 1]);
  // a moved RPATH lands in padding that was zeros
  for (let i = 0; i < before.length; i++) if (before[i] === 0 && after[i] !== 0) ranges.push([i, i + 1]);
  return ranges;
}

/**
 * The changed bytes [i, j) lie inside a first component: a `/usr`, `/etc` or `/var` that became
 * `/opt`, `/tmp` or `////`, or the `lib` of `lib/<triplet>` (at a component's start) that became `./.`.
 */
function isRootSwap(before: Buffer, after: Buffer, i: number, j: number): boolean {
  for (let k = Math.max(0, j - 4); k <= i; k++) {
    if (['/usr', '/etc', '/var'].includes(before.toString('latin1', k, k + 4)) && ['/opt', '/tmp', '////'].includes(after.toString('latin1', k, k + 4))) return true;
  }
  for (let k = Math.max(0, j - 3); k <= i; k++) {
    const atStart = k === 0 || before[k - 1] === 0x2f || before[k - 1] === 0;
    if (atStart && before.toString('latin1', k, k + 4 + triplet.length) === `lib/${triplet}` && after.toString('latin1', k, k + 3) === './.') return true;
  }
  return false;
}

function audit(set: string, cacheDir: string): Tally {
  const packages = set.split('+');
  build(packages, cacheDir);
  const { staged, plan, alternatives } = stagedTree(cacheDir, packages);
  const recipes = applicableRecipes(loadRecipes(), 'deb', plan.packages);
  const runtime = loadRuntime('debian12');
  const { layer, report } = relocate({ staged, layout: { triplet, keep: DEFAULT_KEEP }, recipes, shell: runtime.shell, alternatives });
  // a wrapped program's bytes are at its .real path
  const real = new Map(report.wrapped.map((w) => [w.program, w.real]));
  const tally: Tally = { set, binaries: 0, changedBinaries: 0, rootSwaps: 0, libraryPathEdits: 0, beyond: [] };
  for (const [from, e] of staged) {
    if (e.kind !== 'file') continue;
    const where = place(from, { triplet, keep: DEFAULT_KEEP });
    if (where.kind !== 'place') continue;
    const now = layer.get(real.get(where.to) ?? where.to);
    if (now?.kind !== 'file') continue;
    const before = readContent(e.content);
    if (!isElf(before)) continue;
    tally.binaries++;
    const after = readContent(now.content);
    if (before.equals(after)) continue;
    tally.changedBinaries++;
    let ranges: Array<[number, number]>;
    try {
      ranges = libraryPathRanges(after, before);
    } catch {
      ranges = [];
    }
    const inRanges = (i: number) => ranges.some(([a, b]) => i >= a && i < b);
    const n = Math.max(before.length, after.length);
    for (let i = 0; i < n; ) {
      if (before[i] === after[i]) {
        i++;
        continue;
      }
      let j = i;
      while (j < n && before[j] !== after[j]) j++;
      const swap = isRootSwap(before, after, i, j);
      if (swap) tally.rootSwaps++;
      else if (inRanges(i) && inRanges(j - 1)) tally.libraryPathEdits++;
      else
        tally.beyond.push({ file: where.to, offset: i, before: before.toString('latin1', Math.max(0, i - 8), j + 8), after: after.toString('latin1', Math.max(0, i - 8), j + 8) });
      i = j;
    }
  }
  return tally;
}

function printable(s: string): string {
  return s.replace(/[^\x20-\x7e]/g, '·');
}

const sets = process.argv.slice(2);
if (sets.length === 0) {
  console.error('usage: npm run audit:rewrites -- <package|a+b>… [YUMDA_AUDIT_CACHE=dir]');
  process.exit(2);
}
const cacheDir = process.env.YUMDA_AUDIT_CACHE ?? path.join(os.homedir(), '.cache', 'yumda-audit');
console.log('set'.padEnd(32), 'ELF', 'changed', 'root swaps', 'lib-path edits', 'BEYOND PREFIX');
let failed = 0;
for (const set of sets) {
  try {
    const t = audit(set, cacheDir);
    console.log(
      set.padEnd(32),
      String(t.binaries).padStart(3),
      String(t.changedBinaries).padStart(7),
      String(t.rootSwaps).padStart(10),
      String(t.libraryPathEdits).padStart(14),
      String(t.beyond.length).padStart(13),
    );
    for (const b of t.beyond.slice(0, 5)) console.log(`    ${b.file}@${b.offset}: ${printable(b.before)} → ${printable(b.after)}`);
    if (t.beyond.length > 5) console.log(`    … ${t.beyond.length - 5} more`);
  } catch (e) {
    failed++;
    console.log(set.padEnd(32), `failed: ${(e as Error).message}`);
  }
}
process.exit(failed ? 1 : 0);
