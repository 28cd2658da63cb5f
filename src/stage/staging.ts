import path from 'node:path';
import type { AppliedRecipe } from '../recipes/types.js';
import type { Arch } from '../registry/arch.js';
import type { Target } from '../registry/types.js';
import { STAGE_ARCHIVES, STAGE_OUT, type Backend, type ResolveContext } from '../resolve/backend.js';
import type { Plan, PlannedPackage } from '../resolve/plan.js';
import { parseAlternatives, type Alternative } from '../relocate/alternatives.js';
import { checkFileSize, extractTar, packageRoute, type FileLimit, type Route } from './extract.js';
import { removeStaleTemporaries, type ContentStore } from '../cache/content-store.js';
import { PackageCache, type UnpackedPackage } from '../cache/packages.js';
import { TreeCache } from '../cache/trees.js';
import { addWithParents, sameBytes, sortedEntries, type FileTree, type TreeEntry } from '../tree/types.js';
import { fsError, UserError } from '../util/errors.js';
import { throwIfInterrupted } from '../util/cleanup.js';
import { formatBytes } from '../util/format.js';
import { sha256 } from '../util/hash.js';
import { ProgressMeter } from '../util/progress.js';
import type { BuildSession, SessionEvents } from './session.js';
import { treeTarStream } from '../tree/tar.js';
import { plural } from '../util/plural.js';

export interface StagedRoot {
  tree: FileTree;
  alternatives: Alternative[];
  /** Each package's own file, by package name, when the build asked for them (stage/scripts.ts installs from them). */
  archives: Map<string, NonNullable<UnpackedPackage['archive']>>;
  /** Packages that had to be downloaded and unpacked (the rest came from the cache). */
  fetched: string[];
}

/**
 * Config files a maintainer script installs with ucf (`ucf --three-way SOURCE DESTINATION`, as
 * dh_ucf writes it), recorded by the staging shim as `SOURCE DESTINATION` lines: the destination
 * gets the source's content, as on a system where the package was configured. LibreOffice's
 * /etc/libreoffice/registry/main.xcd is one: without it the program cannot start. A destination the
 * package ships itself, or a source it does not, is left alone. Returns the destinations added.
 */
export function installUcfFiles(tree: FileTree, records: string): string[] {
  const added: string[] = [];
  for (const line of records.split('\n')) {
    const [src, dest, ...rest] = line.trim().split(/\s+/);
    if (!src || !dest || rest.length || !dest.startsWith('/')) continue;
    const to = path.posix.normalize(dest);
    const from = tree.get(path.posix.normalize(src));
    if (from?.kind !== 'file' || tree.has(to) || to === '/') continue;
    addWithParents(tree, { ...from, path: to });
    added.push(to);
  }
  return added;
}

/**
 * The backend's log lines of a staging run, turned into progress: `downloaded FILE` as each
 * package file is in (apt and dnf; yum once all are) and `unpacked NAME`, which apt interleaves
 * with the downloads still running.
 * Sizes come from the plan; other lines pass through as details.
 */
export function stagingProgress(packages: readonly PlannedPackage[], events: SessionEvents): (line: string) => void {
  if (!events.progress) return events.detail;
  const emit = events.progress;
  const size = new Map(packages.map((p) => [p.name, p]));
  const download = new ProgressMeter({ what: 'downloading', unit: 'packages', total: packages.length, bytesTotal: sum(packages, (p) => p.downloadSize) }, emit);
  const unpack = new ProgressMeter({ what: 'unpacking', unit: 'packages', total: packages.length, bytesTotal: sum(packages, (p) => p.installedSize) }, emit);
  let downloaded = 0;
  let downloadsDone = false;
  let unpacked = 0;
  const finishDownloads = () => {
    if (!downloadsDone) download.finish();
    downloadsDone = true;
  };
  const byFile = (file: string) => packages.find((p) => file.startsWith(`${p.name}-${p.version}`) || file.startsWith(`${p.name}_`));
  return (line) => {
    const m = /^(downloaded|unpacked) (\S+)/.exec(line);
    const p = m && (m[1] === 'downloaded' ? byFile(m[2]!) : size.get(m[2]!));
    if (!m || !p) return events.detail(line);
    if (m[1] === 'unpacked') {
      // apt unpacks while the rest downloads; a backend that said no download is done with them
      if (downloaded === 0) finishDownloads();
      unpacked++;
      unpack.add(1, p.installedSize);
      if (unpacked === packages.length) {
        finishDownloads();
        unpack.finish();
      }
    } else {
      downloaded++;
      download.add(1, p.downloadSize);
      if (downloaded === packages.length) finishDownloads();
    }
  };
}

function sum<T>(xs: readonly T[], f: (x: T) => number): number {
  return xs.reduce((n, x) => n + (f(x) || 0), 0);
}

/**
 * The staged root of a plan: each package's unpacked tree from the package cache, or downloaded
 * and unpacked in the build container (only those), merged in name order.
 */
export async function stagePlan(args: {
  plan: Plan;
  session: BuildSession;
  backend: Backend;
  ctx: ResolveContext;
  packages: PackageCache;
  events: SessionEvents;
  store: ContentStore;
  /** The largest file the build's output could ship (stage/limits.ts). */
  fileLimit: FileLimit;
  /** Each package's own file is needed too (its maintainer scripts will run): a cached tree without it is unpacked again. */
  withArchives?: boolean;
  /**
   * Called with every package's file as soon as all are at hand, before the unpacked trees are
   * copied out (the scripts step installs from them meanwhile). The copy out waits for what it
   * returns: the scripts step's upload of the files, which the copy out beside it would slow.
   */
  onArchives?: (archives: StagedRoot['archives']) => Promise<void> | void;
}): Promise<StagedRoot> {
  const { plan, session, backend, ctx, events, store, fileLimit } = args;
  const unpacked = new Map<string, UnpackedPackage>();
  const missing: PlannedPackage[] = [];
  const archives: StagedRoot['archives'] = new Map();
  for (const p of plan.packages) {
    const hit = args.packages.get(p, !!args.withArchives);
    // unpacked for another output (an image holds more than a layer): the same limit as a download
    if (hit) for (const e of hit.tree.values()) if (e.kind === 'file') checkFileSize(p.name, e.path, e.size, fileLimit);
    if (hit) unpacked.set(p.name, hit);
    else missing.push(p);
    if (hit?.archive) archives.set(p.name, hit.archive);
  }
  if (missing.length > 0) {
    const c = await session.get();
    events.step(`downloading and unpacking ${missing.length} of ${plural(plan.packages.length, 'package')} (${plan.packages.length - missing.length} cached)`);
    await backend.stage(c, ctx, missing, stagingProgress(missing, events));
    events.step('copying the unpacked packages out of the build container');
    // what a killed run left in the store goes first; what a failed write of this one left, after
    await removeStaleTemporaries(store.dir);
    try {
      // the package files first, on their own (the scripts step installs from them while the
      // trees are copied), then out of the trees' way; the cache keeps them with the trees
      const files = (await extractTar(await c.getArchive(`${STAGE_OUT}/${STAGE_ARCHIVES}`), store, archivesRoute)).trees.get(ARCHIVES);
      throwIfInterrupted();
      for (const p of missing) {
        const file = files?.get(`/${p.name}.deb`) ?? files?.get(`/${p.name}.rpm`);
        if (file?.kind === 'file') archives.set(p.name, { name: file.path.slice(1), content: file.content, size: file.size });
      }
      await c.exec(['rm', '-rf', `${STAGE_OUT}/${STAGE_ARCHIVES}`]);
      await args.onArchives?.(archives);
      const { trees, meta } = await extractTar(await c.getArchive(STAGE_OUT), store, packageRoute(STAGE_OUT.split('/').pop()!), fileLimit);
      // an interrupt removes the container while its archive streams out: what arrived may be cut
      // short, and must not go into the package cache as if it were whole
      throwIfInterrupted();
      for (const p of missing) {
        const tree = trees.get(p.name);
        if (!tree) throw new UserError(`package ${p.name} ${p.version} was planned but not unpacked`);
        installUcfFiles(tree, meta.get(`${p.name}.ucf`) ?? '');
        for (const e of tree.values()) e.pkg = p.name;
        const archive = archives.get(p.name);
        const u: UnpackedPackage = { tree, alternatives: meta.get(`${p.name}.alternatives`) ?? '', ...(archive ? { archive } : {}) };
        args.packages.put(p, u);
        unpacked.set(p.name, u);
      }
    } catch (e) {
      await removeStaleTemporaries(store.dir);
      throw fsError(e, { path: path.dirname(store.dir), needed: formatBytes(missing.reduce((n, p) => n + p.installedSize, 0)) });
    }
    // the container's unpacked copies are not needed again; later steps start clean
    await c.exec(['rm', '-rf', `${STAGE_OUT}/pkgs`, `${STAGE_OUT}/meta`]);
  } else {
    events.step(`all ${plural(plan.packages.length, 'package')} unpacked from the cache`);
    args.onArchives?.(archives);
  }
  const tree: FileTree = new Map();
  const alternatives: Alternative[] = [];
  for (const name of [...unpacked.keys()].sort()) {
    const u = unpacked.get(name)!;
    for (const [p, e] of u.tree) {
      const prev = tree.get(p);
      if (prev?.kind === 'dir' && e.kind === 'dir') continue;
      tree.set(p, e);
    }
    alternatives.push(...parseAlternatives(u.alternatives));
  }
  return { tree, alternatives, archives, fetched: missing.map((p) => p.name) };
}

/** The tree name the package files go to: no package can be called that. */
const ARCHIVES = ':archives';

const ARCHIVE_ENTRY = new RegExp(`^${STAGE_ARCHIVES}/([^/]+)$`);

/** `archives/<file>` (the Docker archive of STAGE_OUT/archives) to the package files' own tree. */
export function archivesRoute(name: string): Route {
  const m = ARCHIVE_ENTRY.exec(name);
  return m ? { tree: ARCHIVES, path: `/${m[1]}` } : undefined;
}

/**
 * Recipe commands that stand in for maintainer scripts (plugin registries, caches), run on the
 * staged root inside the build container; what they add or change joins the staged tree. They
 * execute the packages' own programs: for another architecture than the engine's they run under
 * its emulation, and are skipped with a warning where it has none. Their output is cached by plan
 * and commands. Returns why they were skipped, when they were: the layer lacks what they make.
 */
export async function runPostStage(args: {
  recipes: AppliedRecipe[];
  target: Target;
  arch: Arch;
  plan: Plan;
  staged: FileTree;
  session: BuildSession;
  events: SessionEvents;
  store: ContentStore;
  cacheDir: string;
  /** Says what the layer will lack (a command that cannot run), and that a damaged cache entry was dropped. */
  warn: (line: string) => void;
  fileLimit: FileLimit;
  /** What else is in the staged root beyond the plan's packages (what their scripts generated): part of the cache key. */
  input?: unknown;
}): Promise<string | undefined> {
  const { recipes, target, arch, staged, session, events, store } = args;
  const commands = recipes.flatMap((r) => r.rules.postStage.map((p) => ({ recipe: r.name, pkg: r.matchedPackage, run: p.run, without: p.without })));
  if (commands.length === 0) return undefined;
  const key = sha256(
    JSON.stringify([args.plan.packages.map((p) => PackageCache.key(p)), commands.map(({ without: _, ...c }) => c), arch.lambda, ...(args.input ? [args.input] : [])]),
  );
  const pkg = commands[0]!.pkg;
  const cache = new TreeCache(args.cacheDir, store, args.warn);
  const hit = cache.get(key, pkg, { what: 'output of the recipe commands', instead: 'running them again' });
  if (hit) {
    for (const e of hit.tree.values()) if (e.kind === 'file') checkFileSize(`${pkg} (recipe commands)`, e.path, e.size, args.fileLimit);
    events.step(`recipe commands: output reused from the cache`);
    for (const [p, e] of hit.tree) staged.set(p, e);
    return undefined;
  }
  const where = await session.runnerFor(arch);
  if ('cannot' in where) {
    for (const cmd of commands) args.warn(skippedPostStage(cmd, arch.lambda, where.cannot));
    return where.cannot;
  }
  const c = where.runner;
  const root = `${STAGE_OUT}/root`;
  events.step('putting the staged root into the build container for the recipe commands');
  await c.exec(['mkdir', '-p', root]);
  await c.putArchive(
    root,
    treeTarStream(
      sortedEntries(staged.values()).map((e) => ({ name: e.path.replace(/^\/+/, ''), entry: e })),
      new Date(0),
    ),
  );
  const libDirs =
    target.family === 'deb' ? [`${root}/usr/lib/${arch.triplet}`, `${root}/lib/${arch.triplet}`, `${root}/usr/lib`] : [`${root}/usr/lib64`, `${root}/lib64`, `${root}/usr/lib`];
  const env = { ROOT: root, TRIPLET: arch.triplet, LIBDIR: libDirs[0]!, LIBPATH: libDirs.join(':') };
  for (const cmd of commands) {
    events.step(`recipe ${cmd.recipe}: ${cmd.run}`);
    const r = await c.exec(['bash', '-c', cmd.run], { env, onStderrLine: (l) => events.detail(l) });
    if (r.exitCode !== 0) throw new UserError(`recipe ${cmd.recipe}: '${cmd.run}' failed (exit ${r.exitCode}): ${r.stderr.trim().split('\n').pop() ?? ''}`);
  }
  // the Docker archive API names entries after the directory asked for: root/...
  const { trees } = await extractTar(
    await c.getArchive(root),
    store,
    (name) => (name === 'root' || name.startsWith('root/') ? { tree: 'root', path: name.slice('root'.length) || '/' } : undefined),
    args.fileLimit,
    () => `${pkg} (recipe commands)`,
  );
  const after = trees.get('root') ?? new Map<string, TreeEntry>();
  const changed: TreeEntry[] = [];
  for (const e of sortedEntries(after.values())) {
    const before = staged.get(e.path);
    if (before && sameContent(before, e)) continue;
    const mine = { ...e, pkg };
    changed.push(mine);
    staged.set(e.path, mine);
  }
  cache.put(key, changed);
  await c.exec(['rm', '-rf', root]);
}

function sameContent(a: TreeEntry, b: TreeEntry): boolean {
  if (a.kind !== b.kind) return false;
  if (a.kind === 'file' && b.kind === 'file') return a.size === b.size && sameBytes(a.content, b.content);
  if (a.kind === 'symlink' && b.kind === 'symlink') return a.target === b.target;
  return true;
}

/**
 * The warning for a recipe command that cannot run: what the layer will lack first, for the user
 * who does not know what `dot -c` does, then the command and why.
 */
export function skippedPostStage(cmd: { recipe: string; run: string; without?: string | undefined }, arch: string, why: string): string {
  const lacks = cmd.without ? `${cmd.recipe}: ${cmd.without}` : `${cmd.recipe}: what its command generates`;
  return `the layer will lack ${lacks}: recipe step '${cmd.run}' was skipped (it runs the packages' ${arch} programs; ${why})`;
}
