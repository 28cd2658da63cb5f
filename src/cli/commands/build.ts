import type { Command, OptionValues } from '@commander-js/extra-typings';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { buildLayer, gateBuild, parseRepos, type BuiltLayer, type Planned } from '../../pipeline/build.js';
import { buildSpec } from '../../pipeline/request.js';
import { layerLabel, layerRequest } from '../../project/request.js';
import { checkOutputs, checkReplaceable, type OutputTarget } from '../../emit/outputs.js';
import { packNotNeeded } from '../../format/packed.js';
import { writeLayerOutputs } from '../../emit/write.js';
import { cachePaths } from '../../cache/paths.js';
import { formatBytes } from '../../util/format.js';
import { readInputText } from '../../util/input.js';
import { findManifest, loadProject, type LayerJob, type Project } from '../../project/manifest.js';
import {
  findLocked,
  formatLock,
  frozenMismatches,
  layerRuntime,
  lockChanges,
  lockPathFor,
  lockTarget,
  lockedLayer,
  LOCK_NAME,
  mergedLock,
  readLock,
  requestDifferences,
  writeLock,
  type LockFile,
  type LockedLayer,
  type LockedRuntime,
} from '../../project/lock.js';
import { loadTarget } from '../../registry/load.js';
import { UserError } from '../../util/errors.js';
import { Reporter, outputMode } from '../ui.js';
import { collect, type NoOptions, type OptionsOf } from '../options.js';
import { plural } from '../../util/plural.js';

/**
 * The options of the commands that work on the manifest (`build`, `update`), added after the
 * command's own, so they come after them in its help.
 */
function addProjectOptions<Args extends unknown[], Opts extends OptionValues, GlobalOpts extends OptionValues>(cmd: Command<Args, Opts, GlobalOpts>) {
  return cmd
    .option('-m, --manifest <file>', 'the manifest (default: yumda.json, yumda.yaml or yumda.yml in the current directory)')
    .option('-l, --layer <name>', 'only this layer of the manifest (repeatable)', collect, [])
    .option('--network <mode>', 'Docker network mode for build containers (env YUMDA_DOCKER_NETWORK)')
    .option('--cache-dir <dir>', 'cache directory (default: $XDG_CACHE_HOME/yumda or ~/.cache/yumda)')
    .option('--json', 'print a machine-readable result on stdout (progress goes to stderr)')
    .option('-q, --quiet', 'print nothing but errors');
}

function declareBuild(program: Command) {
  return addProjectOptions(
    program
      .command('build')
      .description(
        'Build every layer of the manifest (yumda.json / yumda.yaml) with an SBOM beside each zip, and write yumda.lock ' +
          '(exact versions, checksums, build image). Layers whose declaration is unchanged keep their locked versions.',
      )
      .option('--frozen', 'fail if the manifest or the resolution differs from yumda.lock; never rewrite it (for CI)')
      .option('--allow-missing', "write every layer even when a shipped binary needs a library neither the layer nor the runtime has (the manifest's allowMissing, for all layers)")
      .option('--allow-outside', 'write outputs the manifest names outside its own directory (only for a manifest you trust)')
      .option(
        '--refresh',
        'fetch repository metadata, resolve and build again even if the cached ones are fresh (metadata and plans are reused for an hour, a finished build until its request changes)',
      ),
  ).addHelpText('after', '\nExamples:\n  yumda build\n  yumda build --frozen --json\n  yumda build --layer poppler\n');
}

function declareUpdate(program: Command) {
  return addProjectOptions(
    program.command('update').description("Resolve the manifest's layers anew (newest versions within its constraints) and rewrite yumda.lock; builds nothing"),
  );
}

/** The values of the project options, as commander gives them to a handler. */
export type ProjectOptions = OptionsOf<ReturnType<typeof addProjectOptions<[], NoOptions, NoOptions>>>;
export type BuildOptions = OptionsOf<ReturnType<typeof declareBuild>>;
export type UpdateOptions = OptionsOf<ReturnType<typeof declareUpdate>>;

/** `yumda build`: every layer of the manifest, and yumda.lock. */
export function registerBuild(program: Command): void {
  declareBuild(program).action((opts) => buildCommand(opts));
}

/** `yumda update`: yumda.lock resolved anew. */
export function registerUpdate(program: Command): void {
  declareUpdate(program).action((opts) => updateCommand(opts));
}

function openProject(opts: ProjectOptions): { project: Project; jobs: LayerJob[]; lockFile: string; lock: LockFile | undefined } {
  const file = opts.manifest ? path.resolve(opts.manifest) : findManifest(process.cwd());
  const project = loadProject(file);
  const unknown = opts.layer.filter((n) => !project.jobs.some((j) => j.name === n));
  if (unknown.length) {
    throw new UserError(`no layer named ${unknown.map((n) => `'${n}'`).join(', ')} in ${path.basename(file)}`, {
      hint: `its layers: ${[...new Set(project.jobs.map((j) => j.name))].join(', ')}`,
    });
  }
  const jobs = opts.layer.length ? project.jobs.filter((j) => opts.layer.includes(j.name)) : project.jobs;
  const lockFile = lockPathFor(file);
  return { project, jobs, lockFile, lock: readLock(lockFile) };
}

function jobRepositories(job: LayerJob) {
  const target = loadTarget(job.target);
  return [...(job.defaultRepos ? target.repositories : []), ...parseRepos(target, job.repos)];
}

/** What a layer's lock entry is checked against before resolving: its requests, repositories and runtime. */
function declarationDifferences(job: LayerJob, runtime: LockedRuntime, locked: LockedLayer): string[] {
  return requestDifferences(job, jobRepositories(job), runtime, locked);
}

function lockEntry(job: LayerJob, runtime: LockedRuntime, result: Planned): LockedLayer {
  return lockedLayer({ job, repositories: result.repositories, runtime, image: result.image, identity: result.imageIdentity, plan: result.plan });
}

/** The lock with the built entries in place: entries of layers the manifest no longer has are dropped. */
function nextLock(old: LockFile | undefined, entries: LockedLayer[], project: Project): LockFile {
  return mergedLock(old, entries, (l) => project.jobs.some((j) => j.name === l.name && j.arch.lambda === l.arch));
}

/** The lock as it is now, to compare with what would be written; none when there is none (a bad one is refused by readLock first). */
function readText(file: string): string | undefined {
  return existsSync(file) ? readInputText(file, 'a yumda lock') : undefined;
}

interface LayerOutput {
  name: string;
  arch: string;
  target: string;
  zip?: string;
  dir?: string;
  sbom?: string;
  sha256?: string;
  zippedBytes?: number;
  unzippedBytes: number;
  packages: number;
  lockChanges: string[];
  /** What the write gate said: the build's warnings and the libraries allowed to be missing. */
  warnings: string[];
  missingLibraries: Array<{ file: string; soname: string; candidate?: string }>;
  /** Said under the layer's line: a --pack the layer did not need. */
  note?: string;
}

/**
 * `yumda build`: builds every layer of the manifest and writes yumda.lock. With --frozen, the lock
 * is the law: a manifest that no longer matches it fails before any build starts; a layer whose
 * resolution differs from it fails right after resolving, before its files are written; and the
 * lock is never rewritten.
 */
export async function buildCommand(opts: BuildOptions): Promise<void> {
  const { project, jobs, lockFile, lock } = openProject(opts);
  const ui = new Reporter(outputMode(opts));
  const manifestName = path.basename(project.file);
  const runtimes = new Map(jobs.map((j) => [j, layerRuntime(j, project.dir)]));
  await checkOutputs(outputTargets(jobs), {
    confineTo: project.dir,
    allowOutside: !!opts.allowOutside,
    allowOutsideFlag: '--allow-outside',
    protect: [project.file, lockFile, cachePaths(opts.cacheDir).root],
    createParents: true,
  });
  if (!opts.frozen) await checkReplaceable(lockTarget(lockFile));

  if (opts.frozen) {
    if (!lock) throw new UserError(`--frozen needs ${LOCK_NAME} beside ${manifestName}, and there is none`, { hint: 'run `yumda update` (or `yumda build`) and commit the lock' });
    const layers = jobs.map((job) => ({
      name: job.name,
      arch: job.arch.lambda,
      label: layerLabel(job),
      differences: (locked: LockedLayer) => declarationDifferences(job, runtimes.get(job)!, locked),
    }));
    const problems = frozenMismatches(lock, layers, { manifestName, allLayers: !opts.layer.length });
    if (problems.length) {
      throw new UserError(`${LOCK_NAME} does not match ${manifestName}: ${problems.join('; ')}`, { hint: 'run `yumda update` to refresh the lock, then commit it' });
    }
  }

  const entries: LockedLayer[] = [];
  const outputs: LayerOutput[] = [];
  for (const job of jobs) {
    const locked = findLocked(lock, job.name, job.arch.lambda);
    const runtime = runtimes.get(job)!;
    const changed = locked ? declarationDifferences(job, runtime, locked) : [];
    const current = locked !== undefined && changed.length === 0;
    ui.step(`${layerLabel(job)}${current ? `: versions from ${LOCK_NAME}` : locked ? `: ${changed.join('; ')}; resolving anew` : ''}`);
    const warn = (w: string) => ui.warn(`${layerLabel(job)}: ${w}`);
    const request = layerRequest(job, {
      network: opts.network,
      cacheDir: opts.cacheDir,
      refresh: opts.refresh,
      lockedVersions: current ? locked : undefined,
      frozenTo: opts.frozen ? locked : undefined,
    });
    const result = await buildLayer(buildSpec({ ...request, dryRun: false }), { step: ui.step, detail: ui.detail, warn, plan: (plan, ctx) => ui.plan(plan, ctx) });
    const entry = lockEntry(job, runtime, result);
    entries.push(entry);
    outputs.push(await writeOutputs(job, result, ui, lockChanges(locked, entry), opts));
  }

  let lockWritten = false;
  if (!opts.frozen) {
    const next = formatLock(nextLock(lock, entries, project));
    if (readText(lockFile) !== next) {
      await writeLock(lockFile, next);
      lockWritten = true;
    }
  }
  ui.done();
  if (opts.json) {
    process.stdout.write(JSON.stringify({ manifest: project.file, lock: lockFile, lockWritten, frozen: !!opts.frozen, layers: outputs }, null, 2) + '\n');
    return;
  }
  for (const o of outputs) {
    const where = [o.zip && path.relative(process.cwd(), o.zip), o.dir && path.relative(process.cwd(), o.dir) + '/'].filter(Boolean).join(' and ');
    ui.info(
      `${o.name} (${o.target} ${o.arch}): ${plural(o.packages, 'package')}, ${formatBytes(o.unzippedBytes)} unzipped` +
        (o.zippedBytes !== undefined ? `, ${formatBytes(o.zippedBytes)} zipped` : '') +
        ` → ${where}` +
        (o.sha256 ? `\n  sha256 ${o.sha256}` : '') +
        (o.sbom ? `\n  SBOM (CycloneDX 1.5) ${path.relative(process.cwd(), o.sbom)}` : '') +
        (o.note ? `\n  ${o.note}` : ''),
    );
    const changes = o.lockChanges.filter((c) => !c.startsWith('new:'));
    if (changes.length && !opts.frozen) ui.info(`  ${LOCK_NAME}: ${changes.join(', ')}`);
  }
  ui.info(
    opts.frozen
      ? `${LOCK_NAME} matched: every layer built from its locked versions`
      : lockWritten
        ? `Wrote ${path.relative(process.cwd(), lockFile) || LOCK_NAME}`
        : `${LOCK_NAME} is up to date`,
  );
}

/** Every file and directory the jobs will write, for checking before any build starts. */
function outputTargets(jobs: LayerJob[]): OutputTarget[] {
  return jobs.flatMap((job) => [
    ...(job.outputs.zip ? [{ path: job.outputs.zip, kind: 'zip' as const, what: `outputs.zip of ${layerLabel(job)}`, withSbom: true }] : []),
    ...(job.outputs.dir ? [{ path: job.outputs.dir, kind: 'dir' as const, what: `outputs.dir of ${layerLabel(job)}` }] : []),
  ]);
}

async function writeOutputs(job: LayerJob, result: BuiltLayer, ui: Reporter, changes: string[], opts: BuildOptions): Promise<LayerOutput> {
  const gate = gateBuild(result, { allowMissing: job.allowMissing || !!opts.allowMissing, force: false, limit: 'layer' });
  const written = await writeLayerOutputs(gate.layer, result.sbom, job.outputs, {
    cacheDir: cachePaths(opts.cacheDir).zips,
    createParents: true,
    what: { zip: `outputs.zip of ${layerLabel(job)}`, dir: `outputs.dir of ${layerLabel(job)}` },
    warn: (w) => ui.warn(w),
    step: (t) => ui.step(t.replace(process.cwd() + path.sep, '')),
  });
  return {
    name: job.name,
    arch: job.arch.lambda,
    target: job.target,
    unzippedBytes: gate.unzippedBytes,
    packages: result.plan.packages.length,
    lockChanges: changes,
    warnings: gate.warnings,
    missingLibraries: gate.missingLibraries,
    ...(written.zip ? { zip: written.zip.path, sha256: written.zip.sha256, zippedBytes: written.zip.bytes } : {}),
    ...(written.sbom ? { sbom: written.sbom } : {}),
    ...(written.dir ? { dir: written.dir } : {}),
    ...(result.packed && packNotNeeded(result.packed.manifest) ? { note: packNotNeeded(result.packed.manifest) } : {}),
  };
}

/**
 * `yumda update`: resolves every layer anew (newest versions within the manifest's constraints)
 * from freshly fetched repository metadata, and rewrites yumda.lock. Nothing is downloaded or
 * built. Metadata and plans younger than an hour are not reused: taking what the repositories
 * offer now is what an update is for.
 */
export async function updateCommand(opts: UpdateOptions): Promise<void> {
  const { project, jobs, lockFile, lock } = openProject(opts);
  await checkReplaceable(lockTarget(lockFile));
  const ui = new Reporter(outputMode(opts));
  const entries: LockedLayer[] = [];
  const report: Array<{ name: string; arch: string; changes: string[] }> = [];
  for (const job of jobs) {
    ui.step(layerLabel(job));
    const result = await buildLayer(buildSpec({ ...layerRequest(job, { network: opts.network, cacheDir: opts.cacheDir, refresh: true }), dryRun: true }), {
      step: ui.step,
      detail: ui.detail,
      plan: () => undefined,
    });
    const entry = lockEntry(job, layerRuntime(job, project.dir), result);
    entries.push(entry);
    report.push({ name: job.name, arch: job.arch.lambda, changes: lockChanges(findLocked(lock, job.name, job.arch.lambda), entry) });
  }
  const next = formatLock(nextLock(lock, entries, project));
  const changed = readText(lockFile) !== next;
  if (changed) await writeLock(lockFile, next);
  ui.done();
  if (opts.json) {
    process.stdout.write(JSON.stringify({ lock: lockFile, lockWritten: changed, layers: report }, null, 2) + '\n');
    return;
  }
  for (const r of report) ui.info(`${r.name} (${r.arch}): ${r.changes.length ? r.changes.join(', ') : 'unchanged'}`);
  ui.info(changed ? `Wrote ${path.relative(process.cwd(), lockFile) || LOCK_NAME}` : `${LOCK_NAME} is up to date`);
}
