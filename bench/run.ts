/**
 * yumda's benchmark (`npm run bench`): cold, warm and changed-set builds against the naive way
 * (apt-get download + dpkg-deb -x + zip -ry in a fresh container), medians of several runs, peak
 * RSS, layer sizes, each phase's time, relocation + zip of a staged tree in-process, and a packed
 * Chromium build (one run, minutes; BENCH_PACKED=0 leaves it out). Prints a table and writes
 * bench/results/latest.json. Not a test: timings on a shared 2-core machine are noisy.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { defaultBuildImage } from '../src/pipeline/build.js';
import { relocateAndZip } from './relocate-zip.js';
import { loadTarget } from '../src/registry/load.js';
import { PHASE_NAMES, phaseLine, phases } from '../src/pipeline/phases.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const cli = path.join(root, 'dist/bundle/yumda.js');
const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const network = process.env.YUMDA_DOCKER_NETWORK ?? 'host';
const SETS: Array<{ name: string; packages: string[]; changed: string[] }> = [
  { name: 'poppler-utils', packages: ['poppler-utils'], changed: ['poppler-utils', 'qpdf'] },
  { name: 'ghostscript+imagemagick', packages: ['ghostscript', 'imagemagick'], changed: ['ghostscript', 'imagemagick', 'optipng'] },
];

interface Run {
  seconds: number;
  maxRssBytes?: number;
  zipBytes?: number;
  /** Seconds per phase (phases()), from the build's --json timeline. */
  phases?: Record<string, number>;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor((s.length - 1) / 2)]!;
}

function yumda(args: string[], cacheDir: string, out: string): Run & { packages: string[]; json: BuildJson } {
  const t = process.hrtime.bigint();
  const target = args.includes('--target') ? [] : ['--target', 'debian12'];
  const r = spawnSync(process.execPath, [cli, 'install', ...args, ...target, '--out', out, '--cache-dir', cacheDir, '--json'], {
    env: { ...process.env, YUMDA_DOCKER_NETWORK: network },
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
  const seconds = Number(process.hrtime.bigint() - t) / 1e9;
  if (r.status !== 0) throw new Error(`yumda ${args.join(' ')} failed: ${r.stderr.split('\n').slice(-3).join('\n')}`);
  const json = JSON.parse(r.stdout) as BuildJson;
  return {
    seconds,
    maxRssBytes: json.stats.maxRssBytes,
    zipBytes: statSync(out).size,
    packages: json.packages.map((p) => p.name),
    json,
    ...(json.stats.timeline ? { phases: phases(json.stats.timeline, json.stats.durationMs) } : {}),
  };
}

interface BuildJson {
  stats: { maxRssBytes: number; durationMs: number; timeline?: Array<{ atMs: number; event: string }> };
  packages: Array<{ name: string }>;
  packed?: { packedBytes: number; treeBytes: number; unpackMsMeasured: number; compression: { level: number } };
}

/** The median of each phase over runs. */
function medianPhases(runs: Run[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const name of PHASE_NAMES) {
    const xs = runs.map((r) => r.phases?.[name] ?? 0);
    if (xs.some((x) => x > 0)) out[name] = median(xs);
  }
  return out;
}

function naiveImage(buildImage: string): string {
  const ref = 'yumda-bench/naive:1';
  if (spawnSync('docker', ['image', 'inspect', ref]).status === 0) return ref;
  const dir = mkdtempSync(path.join(os.tmpdir(), 'yumda-bench-'));
  writeFileSync(path.join(dir, 'Dockerfile'), `FROM ${buildImage}\nRUN apt-get update && apt-get install -y --no-install-recommends zip && rm -rf /var/lib/apt/lists/*\n`);
  execFileSync('docker', ['build', '-q', '--network', network, '-t', ref, dir], { stdio: 'ignore' });
  return ref;
}

/** The naive way, in a fresh container: fetch metadata, download the closure, unpack, zip. */
function naive(image: string, packages: string[]): Run {
  const script = [
    'set -e',
    'apt-get update -qq',
    'mkdir -p /debs /tree && cd /debs',
    `apt-get download -qq ${packages.join(' ')}`,
    'for f in *.deb; do dpkg-deb -x "$f" /tree; done',
    'cd /tree && zip -qry /layer.zip .',
    'stat -c %s /layer.zip',
  ].join('\n');
  const t = process.hrtime.bigint();
  const r = spawnSync('docker', ['run', '--rm', '--network', network, image, 'bash', '-c', script], { encoding: 'utf8' });
  const seconds = Number(process.hrtime.bigint() - t) / 1e9;
  if (r.status !== 0) throw new Error(`naive build failed: ${r.stderr}`);
  return { seconds, zipBytes: Number(r.stdout.trim().split('\n').pop()) };
}

/**
 * A packed Chromium layer from Debian 13 for debian12, from an empty cache (the repository
 * metadata as it is): one run, it takes minutes. BENCH_PACKED=0 leaves it out.
 */
function packedChromium() {
  const work = mkdtempSync(path.join(os.tmpdir(), 'yumda-bench-chromium-'));
  try {
    const r = yumda(['chromium', '--from', 'debian13', '--target', 'debian12', '--pack'], path.join(work, 'cache'), path.join(work, 'chromium.zip'));
    const p = r.json.packed!;
    return {
      seconds: r.seconds,
      maxRssBytes: r.maxRssBytes ?? 0,
      packedBytes: p.packedBytes,
      treeBytes: p.treeBytes,
      level: p.compression.level,
      unpackMs: p.unpackMsMeasured,
      phases: r.phases ?? {},
    };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const buildImage = defaultBuildImage(loadTarget('debian12'));
  const image = naiveImage(buildImage);
  const results: Record<string, unknown> = {
    date: new Date().toISOString(),
    runs: RUNS,
    machine: `${os.cpus().length} cores, ${Math.round(os.totalmem() / 2 ** 30)} GiB`,
    sets: {},
  };
  const rows: string[][] = [];
  for (const set of SETS) {
    const work = mkdtempSync(path.join(os.tmpdir(), 'yumda-bench-'));
    const cold: Run[] = [];
    const warm: Run[] = [];
    const changed: Run[] = [];
    const naiveRuns: Run[] = [];
    let closure: string[] = [];
    let warmCache = '';
    for (let i = 0; i < RUNS; i++) {
      const cache = path.join(work, `cache-${i}`);
      const r = yumda([...set.packages, '--refresh'], cache, path.join(work, `cold-${i}.zip`));
      cold.push(r);
      closure = r.packages;
      warmCache = cache;
    }
    for (let i = 0; i < RUNS; i++) warm.push(yumda(set.packages, warmCache, path.join(work, `warm-${i}.zip`)));
    for (let i = 0; i < RUNS; i++) {
      const copy = path.join(work, `changed-cache-${i}`);
      cpSync(warmCache, copy, { recursive: true });
      changed.push(yumda(set.changed, copy, path.join(work, `changed-${i}.zip`)));
      rmSync(copy, { recursive: true, force: true });
    }
    for (let i = 0; i < RUNS; i++) naiveRuns.push(naive(image, closure));
    const relocRuns = [];
    for (let i = 0; i < RUNS; i++) relocRuns.push(await relocateAndZip(warmCache, set.packages));
    const reloc = relocRuns.map((r) => r.seconds);
    // the zip as a build writes it: with the deflated copies the builds above left in the cache
    const relocDeflatedRuns = [];
    for (let i = 0; i < RUNS; i++) relocDeflatedRuns.push(await relocateAndZip(warmCache, set.packages, { deflated: true }));
    const summary = {
      packages: set.packages,
      closure: closure.length,
      coldSeconds: median(cold.map((r) => r.seconds)),
      warmSeconds: median(warm.map((r) => r.seconds)),
      changedSetSeconds: median(changed.map((r) => r.seconds)),
      naiveSeconds: median(naiveRuns.map((r) => r.seconds)),
      coldPhases: medianPhases(cold),
      warmPhases: medianPhases(warm),
      relocateAndZipSeconds: median(reloc),
      relocateSeconds: median(relocRuns.map((r) => r.relocateSeconds)),
      zipSeconds: median(relocRuns.map((r) => r.zipSeconds)),
      relocateAndZipDeflatedSeconds: median(relocDeflatedRuns.map((r) => r.seconds)),
      zipDeflatedSeconds: median(relocDeflatedRuns.map((r) => r.zipSeconds)),
      relocateDeflatedSeconds: median(relocDeflatedRuns.map((r) => r.relocateSeconds)),
      peakRssBytes: Math.max(...[...cold, ...warm, ...changed].map((r) => r.maxRssBytes ?? 0)),
      yumdaZipBytes: cold[0]!.zipBytes,
      naiveZipBytes: naiveRuns[0]!.zipBytes,
      raw: { cold, warm, changed, naive: naiveRuns, relocateAndZip: reloc, relocateAndZipDeflated: relocDeflatedRuns.map((r) => r.seconds) },
    };
    (results.sets as Record<string, unknown>)[set.name] = summary;
    const mb = (n: number | undefined) => `${((n ?? 0) / 2 ** 20).toFixed(1)} MiB`;
    rows.push([
      set.name,
      `${summary.coldSeconds.toFixed(2)} s`,
      `${summary.warmSeconds.toFixed(2)} s`,
      `${summary.changedSetSeconds.toFixed(2)} s`,
      `${summary.naiveSeconds.toFixed(2)} s`,
      `${(summary.coldSeconds / summary.naiveSeconds).toFixed(2)}x`,
      `${(summary.naiveSeconds / summary.warmSeconds).toFixed(1)}x`,
      `${summary.relocateAndZipSeconds.toFixed(2)} s (${summary.relocateSeconds.toFixed(2)} + ${summary.zipSeconds.toFixed(2)})`,
      `${summary.relocateAndZipDeflatedSeconds.toFixed(2)} s (${summary.relocateDeflatedSeconds.toFixed(2)} + ${summary.zipDeflatedSeconds.toFixed(2)})`,
      mb(summary.peakRssBytes),
      mb(summary.yumdaZipBytes),
      mb(summary.naiveZipBytes),
    ]);
    rmSync(work, { recursive: true, force: true });
  }
  const packed = process.env.BENCH_PACKED === '0' ? undefined : packedChromium();
  if (packed) (results as Record<string, unknown>).packedChromium = packed;
  const head = [
    'set',
    'cold',
    'warm',
    'changed set',
    'naive',
    'cold/naive',
    'naive/warm',
    'relocate+zip, all deflated',
    'relocate+zip, deflated copies',
    'peak RSS',
    'yumda zip',
    'naive zip',
  ];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (r: string[]) => r.map((c, i) => c.padEnd(widths[i]!)).join('  ');
  console.log(`median of ${RUNS} runs on ${results.machine as string}`);
  console.log(line(head));
  for (const r of rows) console.log(line(r));
  console.log('\nphases, seconds (median; download and unpack overlap: unpack is what remained after the last file was in)');
  for (const [name, x] of Object.entries(results.sets as Record<string, { coldPhases: Record<string, number>; warmPhases: Record<string, number> }>)) {
    console.log(`  ${name} cold: ${phaseLine(x.coldPhases)}`);
    console.log(`  ${name} warm: ${phaseLine(x.warmPhases)}`);
  }
  if (packed) {
    console.log(
      `\nchromium --from debian13 --target debian12 --pack, cold: ${packed.seconds.toFixed(1)} s; archive ${(packed.packedBytes / 2 ** 20).toFixed(1)} MiB (zstd -${packed.level}) of a ${(packed.treeBytes / 2 ** 20).toFixed(1)} MiB tree; first-call unpack ${(packed.unpackMs / 1000).toFixed(1)} s (measured in the build container); peak RSS ${(packed.maxRssBytes / 2 ** 20).toFixed(0)} MiB`,
    );
    console.log(`  phases: ${phaseLine(packed.phases)}`);
  }
  const outDir = path.join(root, 'bench/results');
  mkdirSync(outDir, { recursive: true });
  writeFileSync(path.join(outDir, 'latest.json'), JSON.stringify(results, null, 2) + '\n');
  console.log(`wrote ${path.relative(process.cwd(), path.join(outDir, 'latest.json'))}`);
}

await main();
