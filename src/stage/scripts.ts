/**
 * The packages' real installation, maintainer scripts and triggers included, so that what they
 * generate reaches the layer (TeX's formats, Java's trust store, loader caches, compiled schemas).
 *
 * Where: a fresh container of the build image, a scratch root that nothing else uses and that is
 * thrown away after. The build image is the runtime's distribution (debian:12-slim for debian12,
 * amazonlinux:2023 for al2023); what it has beyond the runtime's packages is removed first, so the
 * root holds the runtime's packages, then the plan is installed from the package files the
 * staging kept (no network). Scripts run with /proc (Java's need it), as root, with no service
 * started and SOURCE_DATE_EPOCH set. Everything created or changed during the installation that
 * is not a package's own file as it unpacked is copied out; generated.ts decides what of it the
 * layer ships, normalise.ts makes it reproducible. The result is cached by what decides it: the
 * plan, the runtime's packages, the build image and the architecture.
 */
import type { Arch } from '../registry/arch.js';
import type { PackageFamily, Runtime, Target } from '../registry/types.js';
import type { Plan } from '../resolve/plan.js';
import type { Runner } from '../runner/types.js';
import type { ContentStore } from '../cache/content-store.js';
import { PackageCache } from '../cache/packages.js';
import { TreeCache } from '../cache/trees.js';
import { readContent, type FileTree, type TreeEntry } from '../tree/types.js';
import { tarOf, treeTarStream } from '../tree/tar.js';
import { sha256 } from '../util/hash.js';
import { throwIfInterrupted } from '../util/cleanup.js';
import { fsError, UserError } from '../util/errors.js';
import { formatBytes } from '../util/format.js';
import path from 'node:path';
import type { ScratchRoot, SessionEvents } from './session.js';
import type { StagedRoot } from './staging.js';
import { extractTar } from './extract.js';
import { candidatePaths, keptStateDirs, parseAliases, selectGenerated, type GeneratedSelection } from './generated.js';
import { normalise, SOURCE_DATE_EPOCH } from './normalise.js';
import { plural } from '../util/plural.js';
import { raw, shellTemplate } from '../util/template.js';
import { debInstallSteps } from '../backends/apt/stage.js';
import { rpmInstallSteps } from '../backends/rpm/stage.js';

/** Where the scratch container keeps the package files, what it lists, and what it copies out. */
const WORK = '/yumda/scripts';

/** Names what the installation step does; a change to it must not reuse what an older one cached. */
const SCRIPTS_STEP = 'scripts-v1';

const installTemplate = shellTemplate(new URL('./install.sh', import.meta.url));

/**
 * The installation script (install.sh) with the package manager's steps in it (the backend's
 * install.sh). `purge`: whether what the build image has beyond the runtime's packages is removed
 * first; not for a self-contained layer, whose plan holds the base itself (packages the image has
 * at the planned version are then not reinstalled).
 */
export function installScript(family: PackageFamily, purge: boolean): string {
  const steps = family === 'deb' ? debInstallSteps(purge) : rpmInstallSteps(purge);
  return installTemplate({ WORK, SOURCE_DATE_EPOCH, PACKAGE_MANAGER: raw(steps) });
}

/** The packages whose scripts failed, each with the line before dpkg's or rpm's complaint (the script's own message). */
export function failedScripts(log: string): Array<{ pkg: string; why: string }> {
  const lines = log.split('\n');
  const out = new Map<string, string>();
  lines.forEach((l, i) => {
    const deb = /^dpkg: error processing package (\S+?)(?::\S+)? \(/.exec(l);
    const rpm = /^(?:warning|error): %(\w+)\(([^)]+?)-[^-]+-[^-]+\) scriptlet failed/.exec(l);
    const pkg = deb?.[1] ?? rpm?.[2];
    if (!pkg || out.has(pkg)) return;
    // the script's own message: the last line it printed since the package manager began this package
    let before: string | undefined;
    for (let j = i - 1; j >= Math.max(0, i - 5) && before === undefined; j--) {
      const x = lines[j]!;
      if (/^(Setting up|Processing triggers|Preparing|Unpacking|Selecting|dpkg: |warning: |error: )/.test(x)) break;
      // continuation lines of the package manager's messages are indented
      if (x.trim() && !/^\s/.test(x)) before = x;
    }
    const detail = deb ? (lines[i + 1]?.trim() ?? '') : `%${rpm![1]} scriptlet`;
    out.set(pkg, [before?.trim(), detail].filter(Boolean).join(': '));
  });
  return [...out].map(([pkg, why]) => ({ pkg, why }));
}

/** What the installation step did, for the install report, --json and the layer manifest. */
export interface ScriptsReport {
  /** Not run: `--no-scripts`, or why it could not run. */
  skipped?: string;
  /** Reused from the cache. */
  reused: boolean;
  /** What joins the layer, as the packages spell the paths (relocation moves them like every other file). */
  generated: Array<{ path: string; bytes: number; package?: string; kind: 'file' | 'symlink' }>;
  leftOut: GeneratedSelection['leftOut'];
  /** Files made reproducible, and how. */
  normalised: Array<{ path: string; what: string }>;
  /** Packages whose scripts failed: what they generated is shipped, what they did not is missing. */
  failed: Array<{ pkg: string; why: string }>;
  notes: string[];
  /** Directories under /var/lib the layer ships read-only (placement.ts). */
  keptState: string[];
}

/** The note the cache keeps with the generated tree. */
interface ScriptsNote {
  failed: ScriptsReport['failed'];
  notes: string[];
  aliases: Array<[string, string]>;
}

export interface RunScriptsArgs {
  plan: Plan;
  /**
   * The staged root, still being downloaded and unpacked: the scratch root is started and made the
   * runtime's meanwhile, and the installation waits for the package files.
   */
  staging: Promise<StagedRoot>;
  /** Every package's file, as soon as the staging has them all (before it has copied the trees out). */
  archives: Promise<StagedRoot['archives']>;
  /**
   * Said when the staging may go on to copy its trees out: the package files are in the scratch
   * root, or will not be soon (the root is not ready yet, or the step ends). The copy out beside
   * the upload, in this process, made it three times as slow (0.65 s against 0.22 s for
   * poppler-utils' 32 files), and the installation waits for the upload; the copy out does not
   * wait for the installation. The staging may wait for this: before this step waits for the
   * staging, it says it.
   */
  archivesTaken?: () => void;
  target: Target;
  runtime: Runtime;
  arch: Arch;
  /** The build image: what the scratch root is made of (its reference names its content). */
  image: string;
  /** Self-contained: the plan carries its own base; nothing of the image is purged. */
  selfContained: boolean;
  scratch: () => Promise<ScratchRoot>;
  store: ContentStore;
  cacheDir: string;
  events: SessionEvents;
  warn: (line: string) => void;
}

/** The cache key: everything the installation's outcome depends on. */
export function scriptsKey(a: Pick<RunScriptsArgs, 'plan' | 'target' | 'runtime' | 'arch' | 'image' | 'selfContained'>): string {
  return sha256(
    JSON.stringify([
      SCRIPTS_STEP,
      a.target.family,
      a.arch.lambda,
      a.image,
      a.selfContained,
      a.runtime.packages.map((p) => [p.name, p.version]),
      a.plan.packages.map((p) => PackageCache.key(p)),
    ]),
  );
}

/**
 * Runs the plan's installation (or takes its outcome from the cache) and adds what the scripts
 * generated to the staged root. Returns the report; `keptState` goes to relocation. Whatever
 * happens, it returns or throws only once the staging has settled (its failure is the one thrown).
 */
export async function runMaintainerScripts(args: RunScriptsArgs): Promise<ScriptsReport> {
  let early: Promise<ScratchRoot> | undefined;
  try {
    return await scriptsOf(args, (p) => {
      early = p;
    });
  } catch (e) {
    // the staging's failure is the one to say: the scripts step's may follow from it (a full disk)
    throw (
      (await stagingSettled(args).then(
        () => undefined,
        (stagingError: unknown) => stagingError,
      )) ?? e
    );
  } finally {
    await stagingSettled(args).catch(() => undefined);
    // the scratch root goes whether it served or not (the staging failed, a file was missing)
    if (early) await early.then((r) => ('close' in r ? r.close() : undefined)).catch(() => undefined);
  }
}

/** The staging, once it is told it need not wait for this step (it may be waiting to be). */
function stagingSettled(args: RunScriptsArgs): Promise<StagedRoot> {
  args.archivesTaken?.();
  return args.staging;
}

async function scriptsOf(args: RunScriptsArgs, started: (p: Promise<ScratchRoot>) => void): Promise<ScriptsReport> {
  const { plan, store, events } = args;
  const empty = (skipped?: string): ScriptsReport => ({
    ...(skipped ? { skipped } : {}),
    reused: false,
    generated: [],
    leftOut: [],
    normalised: [],
    failed: [],
    notes: [],
    keptState: [],
  });
  if (plan.packages.length === 0) return empty();
  const key = scriptsKey(args);
  const cache = new TreeCache(args.cacheDir, store, args.warn);
  const hit = cache.get(key, '', { what: 'output of the maintainer scripts', instead: 'running them again' });
  let generated: FileTree;
  let note: ScriptsNote;
  let reused = false;
  let staged: StagedRoot;
  if (hit) {
    staged = await stagingSettled(args);
    events.step('maintainer scripts: output reused from the cache');
    generated = hit.tree;
    note = JSON.parse(hit.note ?? '{}') as ScriptsNote;
    reused = true;
  } else {
    // the scratch root is made ready while the packages download and unpack
    const preparing = prepareScratch(args);
    let ready = false;
    // its failure is thrown where it is awaited, after the staging: not an unhandled rejection meanwhile
    preparing.then(
      () => (ready = true),
      () => (ready = true),
    );
    started(preparing);
    // the staging says the files are in before it is done (or fails, or is done: the files are in its root)
    const archives = await Promise.race([args.archives, args.staging.then((s) => s.archives)]);
    // a root not ready yet takes the files later: the staging goes on meanwhile (the build
    // machine itself is prepared only after the staging)
    if (!ready) args.archivesTaken?.();
    const missing = plan.packages.filter((p) => !archives.has(p.name));
    if (missing.length) {
      await stagingSettled(args);
      return empty(`the package files of ${missing.map((p) => p.name).join(', ')} are not at hand`);
    }
    const root = await preparing;
    if ('cannot' in root) {
      await stagingSettled(args);
      return empty(root.cannot);
    }
    const installed = await install(root.runner, args, archives);
    staged = await stagingSettled(args);
    ({ generated, note } = installed);
    try {
      cache.put(key, generated.values(), { note: JSON.stringify(note) });
    } catch (e) {
      throw fsError(e, { path: args.cacheDir });
    }
  }
  for (const e of generated.values()) delete e.pkg;
  const aliases = new Map(note.aliases ?? []);
  const selection = selectGenerated(generated, staged.tree, aliases);
  const report: ScriptsReport = { ...empty(), reused, leftOut: selection.leftOut, failed: note.failed ?? [], notes: note.notes ?? [] };
  for (const e of selection.ship) {
    let entry = e;
    if (e.kind === 'file') {
      const n = normalise(readContent(e.content));
      if (n) {
        entry = { ...e, size: n.data.length, content: store.save(n.data) };
        report.normalised.push({ path: e.path, what: n.what });
      }
    }
    staged.tree.set(entry.path, entry);
    if (entry.kind !== 'dir')
      report.generated.push({ path: entry.path, bytes: entry.kind === 'file' ? entry.size : 0, kind: entry.kind, ...(entry.pkg ? { package: entry.pkg } : {}) });
  }
  for (const p of selection.sources) staged.tree.delete(p);
  addParents(staged.tree, selection.ship);
  report.keptState = keptStateDirs(selection.ship, aliases);
  return report;
}

/** Directories above the generated entries that the staged root lacks (a script made them). */
function addParents(tree: FileTree, entries: TreeEntry[]): void {
  for (const e of entries) {
    for (let d = e.path.slice(0, e.path.lastIndexOf('/')); d && !tree.has(d); d = d.slice(0, d.lastIndexOf('/'))) {
      tree.set(d, { kind: 'dir', path: d, mode: 0o755, ...(e.pkg ? { pkg: e.pkg } : {}) });
    }
  }
}

/**
 * A scratch root (a fresh container of the build image) made the runtime's: what the image has
 * beyond the runtime's packages removed (install.sh prepare). Started before the package files
 * are in: it needs only the runtime's package list.
 */
async function prepareScratch(args: RunScriptsArgs): Promise<ScratchRoot> {
  const root = await args.scratch();
  if ('cannot' in root) return root;
  // the purge would take what the staging runs on (a download's certificates) from under it
  if (root.isTheBuildMachine) await args.staging.catch(() => undefined);
  try {
    const purge = !args.selfContained && args.runtime.packages.length > 0;
    const files = new Map<string, string | Buffer>([
      [`${WORK}/runtime-packages`, args.runtime.packages.map((p) => p.name).join('\n') + '\n'],
      [`${WORK}/install.sh`, installScript(args.target.family, purge)],
    ]);
    await root.runner.putArchive('/', await tarOf(files));
    const r = await root.runner.exec(['sh', `${WORK}/install.sh`, 'prepare']);
    if (r.exitCode !== 0) throw installFailed(r);
  } catch (e) {
    await root.close();
    throw e;
  }
  return root;
}

function installFailed(r: { exitCode: number; stderr: string }): UserError {
  return new UserError(`installing the packages to run their maintainer scripts failed (exit ${r.exitCode}): ${r.stderr.trim().split('\n').pop() ?? ''}`, {
    hint: '--no-scripts builds the layer without what the scripts generate',
  });
}

async function install(c: Runner, args: RunScriptsArgs, archives: StagedRoot['archives']): Promise<{ generated: FileTree; note: ScriptsNote }> {
  const { plan, store, events } = args;
  const ext = args.target.family === 'deb' ? 'deb' : 'rpm';
  events.step(`running the maintainer scripts: installing ${plural(plan.packages.length, 'package')} into a scratch root of the build image`);
  // what each package file is, so the scratch root need not ask every file (dpkg-deb -f, rpm -qp:
  // a process per package, twice, each tens of milliseconds, and ten times that emulated)
  await c.putArchive('/', await tarOf(new Map([[`${WORK}/plan`, plan.packages.map((p) => `${p.name} ${p.version}\n`).join('')]])));
  await c.putArchive(
    '/',
    treeTarStream(
      plan.packages.map((p) => {
        const a = archives.get(p.name)!;
        const name = `${WORK.slice(1)}/pkgs/${p.name}.${ext}`;
        return { name, entry: { kind: 'file', path: `/${name}`, mode: 0o644, size: a.size, content: a.content } };
      }),
      new Date(0),
    ),
  );
  args.archivesTaken?.();
  const r = await c.exec(['sh', `${WORK}/install.sh`, 'install']);
  if (r.exitCode !== 0) throw installFailed(r);
  // what the installation wrote goes into the store, on the cache's disk: a full one is said there
  const onDisk = (e: unknown) => fsError(e, { path: path.dirname(store.dir), needed: formatBytes(plan.packages.reduce((n, p) => n + p.installedSize, 0)) });
  const meta = (
    await extractTar(await c.getArchive(`${WORK}/meta`), store, (name) => (name.startsWith('meta/') ? { meta: name.slice(5) } : undefined)).catch((e: unknown) => {
      throw onDisk(e);
    })
  ).meta;
  const aliases = parseAliases(meta.get('aliases') ?? '');
  const log = meta.get('install.log') ?? '';
  const status = (meta.get('status') ?? '0').trim();
  const failed = failedScripts(log);
  const notes = (meta.get('notes') ?? '').split('\n').filter(Boolean);
  if (status !== '0' && failed.length === 0) notes.push(`the installation ended with exit status ${status}: ${log.trim().split('\n').slice(-2).join(' ')}`);
  for (const f of failed) events.detail(`maintainer script of ${f.pkg} failed: ${f.why}`);
  const paths = candidatePaths({ changed: meta.get('changed') ?? '', owned: meta.get('owned') ?? '', modified: meta.get('modified') ?? '', aliases });
  let generated: FileTree = new Map();
  if (paths.length) {
    events.step(`copying ${plural(paths.length, 'file')} the scripts generated out of the scratch root`);
    await c.putArchive(WORK, await tarOf(new Map([['list', paths.map((p) => p.slice(1)).join('\0') + '\0']])));
    const copy = await c.exec(['sh', '-c', `cd / && tar --no-recursion --null -T ${WORK}/list -cf - | tar -C ${WORK}/gen -xf -`]);
    if (copy.exitCode !== 0) {
      throw new UserError(`copying what the maintainer scripts generated out of the scratch root failed: ${copy.stderr.trim().split('\n').pop() ?? ''}`, {
        hint: '--no-scripts builds the layer without what the scripts generate',
      });
    }
    const out = await extractTar(await c.getArchive(`${WORK}/gen`), store, (name) =>
      name === 'gen' || name.startsWith('gen/') ? { tree: 'gen', path: name.slice('gen'.length) || '/' } : undefined,
    ).catch((e: unknown) => {
      throw onDisk(e);
    });
    throwIfInterrupted();
    generated = out.trees.get('gen') ?? new Map();
  }
  return { generated, note: { failed, notes, aliases: [...aliases] } };
}
