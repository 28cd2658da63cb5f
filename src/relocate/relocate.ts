import path from 'node:path';
import { elfObjects, neededClosure, sonameIndex } from '../elf/graph.js';
import { ET_DYN, ET_EXEC } from '../elf/read.js';
import type { AppliedRecipe } from '../recipes/types.js';
import { ContentMemo } from '../tree/content-memo.js';
import { bytes, sameBytes, sortedEntries, type Content, type FileEntry, type FileTree, type TreeEntry } from '../tree/types.js';
import { absoluteLinkTarget, relativeLink } from '../tree/links.js';
import { resolvePath, withImpliedDirs, type ResolvableTree } from '../tree/resolve.js';
import { applyAlternatives, type Alternative } from './alternatives.js';
import { relocateBinaries, type BinaryReport } from './binaries.js';
import { dedupeFiles, type DedupeReport } from './dedupe.js';
import { globToRegExp, matchesAny } from './glob.js';
import { place, placementPriority, relocatedAddress, type DropReason, type LayoutOptions } from './placement.js';
import { PathMap } from './paths.js';
import { PRIVATE_INTERPRETER, SELF_CONTAINED_LIBRARY_DIRS, privatizeLibraries, type PrivateLibraries } from './self-contained.js';
import { UserError } from '../util/errors.js';
import { distributionLinks } from './subpaths.js';
import { relocateTextFiles } from './text-files.js';
import { envFileContent, execWrapperScript, wrapperScript, wrappedRealPath } from './wrappers.js';
import { ENV_PATH, EXEC_WRAPPER_PATH, LAYER_ROOT } from '../format/lambda.js';

export interface RelocateInput {
  /** The staged root: packages unpacked at their original paths. */
  staged: FileTree;
  layout: LayoutOptions;
  recipes: AppliedRecipe[];
  /** The runtime's POSIX shell, the interpreter of generated wrappers. */
  shell: string;
  /** Alternatives the packages' maintainer scripts would have registered. */
  alternatives?: Alternative[];
  /** Where rewritten file contents go (default: memory). */
  save?: (data: Buffer) => Content;
  /**
   * The packages whose dependencies reach a package (itself included). A program gets a
   * recipe's environment when its package depends on the recipe's package, which catches
   * libraries loaded as plugins (dlopen), invisible in DT_NEEDED.
   */
  dependents?: (pkg: string) => readonly string[];
  /**
   * The layer carries its own C library (`--from`): its shared objects move off Lambda's library
   * path, and every program names the layer's loader and searches the layer first (clibrary.ts).
   */
  selfContained?: boolean;
  /**
   * What this run computed from file contents (ELF parses), to share with the steps that read the
   * layer after relocation (the module pass, the closure check); a new one when absent.
   */
  memo?: ContentMemo;
}

export interface DroppedLink {
  path: string;
  target: string;
  why: string;
}

export interface RelocateReport {
  dropped: Partial<Record<DropReason, { files: number; bytes: number }>>;
  droppedLinks: DroppedLink[];
  /** Two staged paths that land on one layer path: which one the layer keeps. */
  collisions: Array<{ to: string; kept: string; lost: string }>;
  /** Paths rewritten in text files (config, scripts, pkg-config, libtool). */
  rewritten: Array<{ file: string; from: string; to: string }>;
  binaries: Omit<BinaryReport, 'links'> & {
    /** Links that make the distribution's sub-paths, which rewritten strings keep, lead into the layer. */
    links: Array<{ link: string; target: string }>;
  };
  alternatives: Array<{ link: string; path: string }>;
  wrapped: Array<{ program: string; real: string; env: string[] }>;
  env: Record<string, string>;
  /** Files and directories whose setuid, setgid or sticky bits were cleared: mode before and after. */
  strippedModes: Array<{ path: string; from: number; to: number }>;
  /** Identical files (hard links among them) shipped once, the others as links to that copy. */
  deduplicated: DedupeReport;
  /** Self-contained layers: the C library carried, and where the shared libraries went. */
  cLibrary?: PrivateLibraries;
}

/** A report of a relocation that did nothing yet (the start of every relocation, and test data). */
export function emptyReport(): RelocateReport {
  return {
    dropped: {},
    droppedLinks: [],
    collisions: [],
    rewritten: [],
    binaries: {
      rewrittenPaths: [],
      rewrittenDirs: [],
      unrewritable: [],
      libraryPath: [],
      libraryPathFailed: [],
      interpreters: [],
      interpreterFailed: [],
      links: [],
      unreadable: [],
    },
    alternatives: [],
    wrapped: [],
    env: {},
    strippedModes: [],
    deduplicated: { linked: [], savedBytes: 0 },
  };
}

export interface RelocateResult {
  layer: FileTree;
  report: RelocateReport;
}

/** The layer under construction, its directories implied by the entries below them. */
type Lookup = ResolvableTree;

/** Where a path of the layer under construction leads, or undefined when the layer has nothing there. */
function realPath(lookup: Lookup, p: string): string | undefined {
  const r = resolvePath(lookup, p);
  return r.kind === 'found' ? r.path : undefined;
}

/**
 * Turns a staged root into a layer rooted at /opt: places every path (layout.ts), makes the
 * alternatives links, retargets symlinks as relative links inside the layer, rewrites paths in
 * text files and, in place, in binaries, gives executables the layer's library directory,
 * applies recipes, and wraps executables whose libraries need environment variables.
 * Pure over the tree.
 */
export function relocate(input: RelocateInput): RelocateResult {
  const { layout, recipes } = input;
  const save = input.save ?? bytes;
  const triplet = layout.triplet;
  const staged: FileTree = new Map(input.staged);
  const report = emptyReport();
  const memo = input.memo ?? new ContentMemo();
  report.alternatives = applyAlternatives(staged, input.alternatives ?? []);

  const { placed, origin } = placeAll(staged, layout, recipes, report);
  const lookup: Lookup = withImpliedDirs(placed);
  retargetLinks(placed, origin, staged, triplet, lookup, report, layout.keptState);
  if (input.selfContained) {
    const own = privatizeLibraries(placed);
    if ('error' in own) throw new UserError(`cannot make a self-contained layer: ${own.error}`);
    for (const { from, to } of own.moved) {
      origin.set(to, origin.get(from)!);
      origin.delete(from);
    }
    report.cLibrary = own;
  }

  const paths = new PathMap(staged, lookup, triplet, layout.keptState);
  const rewriteGlobs = recipes.flatMap((r) => r.rules.rewrite).map(globToRegExp);
  report.rewritten = relocateTextFiles(
    placed,
    (p) => origin.get(p),
    paths,
    triplet,
    save,
    (from) => matchesAny(from, rewriteGlobs),
  ).rewritten;

  const exact = recipes.flatMap((r) => r.rules.binaryStrings.map((b) => ({ files: b.files.map(globToRegExp), from: b.from, to: b.to })));
  const bin = relocateBinaries(
    placed,
    paths,
    triplet,
    save,
    (p) => origin.get(p),
    exact,
    (p) => realPath(lookup, p),
    input.selfContained ? { libraryDirs: SELF_CONTAINED_LIBRARY_DIRS, interpreter: PRIVATE_INTERPRETER } : undefined,
    memo,
  );
  const stranded = [...bin.interpreterFailed, ...(input.selfContained ? bin.libraryPathFailed : [])];
  if (stranded.length > 0) {
    // a program left on the runtime's loader or library path would mix two C libraries
    throw new UserError(`cannot make a self-contained layer: ${stranded[0]!.file}: ${stranded[0]!.why}${stranded.length > 1 ? ` (and ${stranded.length - 1} more)` : ''}`);
  }
  // the links rewritten strings need, and the distribution's folded directories (a program may
  // join lib/<triplet>/… to its prefix at run time, which no string shows)
  const links = new Map(bin.links);
  const shippedFrom = [...origin].filter(([to]) => placed.get(to)?.kind !== 'dir').map(([, from]) => from);
  for (const l of distributionLinks(shippedFrom, triplet)) {
    if (lookup.get(l.link) === undefined && !links.has(l.link)) links.set(l.link, l.target);
  }
  report.binaries = { ...bin, links: [...links].sort(([a], [b]) => a.localeCompare(b)).map(([link, target]) => ({ link, target })) };
  for (const { link, target } of report.binaries.links) {
    if (!placed.has(link)) placed.set(link, { kind: 'symlink', path: link, target });
  }

  for (const r of recipes) {
    for (const g of r.rules.generate) {
      const data = Buffer.from(g.content);
      placed.set(g.path, { kind: 'file', path: g.path, mode: g.mode ? parseInt(g.mode, 8) : 0o644, size: data.length, content: save(data), pkg: r.matchedPackage });
    }
  }

  for (const r of recipes) Object.assign(report.env, r.rules.env);
  wrapPrograms(placed, lookup, recipes, input.shell, input.dependents ?? (() => []), report, memo);
  if (Object.keys(report.env).length > 0) {
    const data = Buffer.from(envFileContent(report.env));
    placed.set(ENV_PATH, { kind: 'file', path: ENV_PATH, mode: 0o644, size: data.length, content: save(data) });
    const wanting = recipes.filter((r) => Object.keys(r.rules.env).length > 0).map((r) => r.name);
    const wrapper = Buffer.from(execWrapperScript(input.shell, report.env, wanting));
    placed.set(EXEC_WRAPPER_PATH, { kind: 'file', path: EXEC_WRAPPER_PATH, mode: 0o755, size: wrapper.length, content: save(wrapper) });
  }

  const layer = withParents(placed);
  report.strippedModes = stripSpecialModes(layer);
  report.deduplicated = dedupeFiles(layer);
  return { layer, report };
}

/** The setuid, setgid and sticky bits. */
export const SPECIAL_MODE_BITS = 0o7000;

/**
 * Clears setuid, setgid and sticky bits. Lambda runs functions as an unprivileged user under
 * no_new_privs, so they grant nothing there; elsewhere (a layer unpacked as root with --out-dir,
 * an image stage) a setuid-root binary from a package would be a privilege escalation nobody
 * asked for. File capabilities never reach a layer: a zip cannot carry them, and what the
 * maintainer scripts set in their scratch root comes out without them (stage/scripts.ts).
 */
function stripSpecialModes(layer: FileTree): RelocateReport['strippedModes'] {
  const stripped: RelocateReport['strippedModes'] = [];
  for (const [p, e] of layer) {
    if (e.kind === 'symlink' || (e.mode & SPECIAL_MODE_BITS) === 0) continue;
    const to = e.mode & ~SPECIAL_MODE_BITS;
    stripped.push({ path: p, from: e.mode, to });
    layer.set(p, { ...e, mode: to });
  }
  return stripped;
}

/** Step 1: every staged path to its layer path, or dropped; collisions resolved by priority. */
function placeAll(staged: FileTree, layout: LayoutOptions, recipes: AppliedRecipe[], report: RelocateReport) {
  const dropGlobs = recipes.flatMap((r) => r.rules.drop).map(globToRegExp);
  const keepGlobs = recipes.flatMap((r) => r.rules.keep).map(globToRegExp);
  const placed = new Map<string, TreeEntry>();
  const origin = new Map<string, string>();
  for (const e of sortedEntries(staged.values())) {
    let where = place(e.path, layout);
    if (where.kind === 'drop' && where.reason !== 'system' && where.reason !== 'state' && matchesAny(e.path, keepGlobs)) {
      where = { kind: 'place', to: relocatedAddress(e.path, layout.triplet, layout.keptState) };
    }
    if (where.kind === 'place' && matchesAny(e.path, dropGlobs)) where = { kind: 'drop', reason: 'recipe' };
    if (where.kind === 'drop') {
      report.dropped[where.reason] ??= { files: 0, bytes: 0 };
      const d = report.dropped[where.reason]!;
      if (e.kind !== 'dir') d.files++;
      if (e.kind === 'file') d.bytes += e.size;
      continue;
    }
    const to = where.to;
    const prev = origin.get(to);
    if (prev !== undefined) {
      const prevEntry = placed.get(to)!;
      if (prevEntry.kind === 'dir' && e.kind === 'dir') continue;
      const winner = placementPriority(e.path, layout.triplet) < placementPriority(prev, layout.triplet) ? e.path : prev;
      const loser = winner === prev ? e.path : prev;
      // a link to the other one (merged /usr: /lib64/ld-linux-x86-64.so.2 -> /lib/<triplet>/…) is no conflict
      const loserEntry = loser === prev ? prevEntry : e;
      const same =
        sameEntry(prevEntry, e) || (loserEntry.kind === 'symlink' && relocatedAddress(absoluteLinkTarget(loser, loserEntry.target), layout.triplet, layout.keptState) === to);
      if (!same) report.collisions.push({ to, kept: winner, lost: loser });
      if (winner === prev) continue;
    }
    placed.set(to, { ...e, path: to });
    origin.set(to, e.path);
  }
  return { placed, origin };
}

/** Step 2: links resolved against the original root and pointed, relatively, at the new place. */
function retargetLinks(
  placed: Map<string, TreeEntry>,
  origin: Map<string, string>,
  staged: FileTree,
  triplet: string,
  lookup: Lookup,
  report: RelocateReport,
  keptState?: readonly string[],
): void {
  for (const [to, e] of placed) {
    if (e.kind !== 'symlink') continue;
    const addr = relocatedAddress(absoluteLinkTarget(origin.get(to)!, e.target), triplet, keptState);
    placed.set(to, { ...e, target: relativeLink(to, addr) });
  }
  // A link whose target the layer does not ship would dangle (or point into whatever the host
  // has there): drop it, and again for links that pointed at a dropped link.
  for (let changed = true; changed; ) {
    changed = false;
    for (const [to, e] of placed) {
      if (e.kind !== 'symlink' || realPath(lookup, to) !== undefined) continue;
      placed.delete(to);
      const from = origin.get(to)!;
      const original = staged.get(from);
      report.droppedLinks.push({ path: from, target: original?.kind === 'symlink' ? original.target : e.target, why: 'target not in the layer' });
      changed = true;
    }
  }
}

function withParents(placed: Map<string, TreeEntry>): FileTree {
  const layer: FileTree = new Map();
  for (const e of sortedEntries(placed.values())) {
    for (let d = path.posix.dirname(e.path); d !== '/' && d !== LAYER_ROOT && !layer.has(d) && !placed.has(d); d = path.posix.dirname(d)) {
      layer.set(d, { kind: 'dir', path: d, mode: 0o755 });
    }
    layer.set(e.path, e);
  }
  return new Map(sortedEntries(layer.values()).map((e) => [e.path, e]));
}

function sameEntry(a: TreeEntry, b: TreeEntry): boolean {
  if (a.kind !== b.kind) return false;
  if (a.kind === 'symlink' && b.kind === 'symlink') return a.target === b.target;
  if (a.kind === 'file' && b.kind === 'file') return a.size === b.size && sameBytes(a.content, b.content);
  return true;
}

/** Step 7: a wrapper for each program in /opt/bin that loads a library whose recipe sets variables. */
function wrapPrograms(
  placed: Map<string, TreeEntry>,
  lookup: Lookup,
  recipes: AppliedRecipe[],
  shell: string,
  dependents: (pkg: string) => readonly string[],
  report: RelocateReport,
  memo: ContentMemo,
): void {
  const wanting = recipes.filter((r) => Object.keys(r.rules.env).length > 0);
  if (wanting.length === 0) return;
  const binDir = `${LAYER_ROOT}/bin`;
  const objects = elfObjects(placed, undefined, memo);
  const sonames = sonameIndex(placed, objects, [`${LAYER_ROOT}/lib`]);
  const follow = (p: string) => realPath(lookup, p);

  // files first: a link in /opt/bin to a wrapped program then reaches the wrapper under its own
  // name ($0), which multi-call programs (dot, neato, fdp) need
  const programs = [...placed].filter(([p, e]) => path.posix.dirname(p) === binDir && e.kind !== 'dir');
  programs.sort(([, a], [, b]) => (a.kind === b.kind ? 0 : a.kind === 'file' ? -1 : 1));
  for (const [p, e] of programs) {
    const real = follow(p);
    if (!real) continue;
    if (e.kind === 'symlink' && path.posix.dirname(real) === binDir) continue;
    const obj = objects.get(real);
    if (!obj || (obj.elf.type !== ET_EXEC && obj.elf.type !== ET_DYN) || !obj.elf.interpreter) continue;
    const loads = neededClosure(real, objects, sonames, follow);
    const name = path.posix.basename(p);
    const owner = placed.get(real)?.pkg;
    const env: Record<string, string> = {};
    for (const r of wanting) {
      const needs =
        r.rules.envFor.sonames.some((s) => loads.has(s)) || r.rules.envFor.programs.includes(name) || (owner !== undefined && dependents(r.matchedPackage).includes(owner));
      if (needs) Object.assign(env, r.rules.env);
    }
    if (Object.keys(env).length === 0) continue;
    let target: string;
    if (e.kind === 'file') {
      target = wrappedRealPath(p);
      placed.set(target, { ...(e as FileEntry), path: target });
    } else {
      target = real;
    }
    const script = Buffer.from(
      wrapperScript(
        shell,
        target,
        env,
        wanting.map((r) => r.name),
      ),
    );
    placed.set(p, { kind: 'file', path: p, mode: 0o755, size: script.length, content: bytes(script), ...(e.pkg ? { pkg: e.pkg } : {}) });
    report.wrapped.push({ program: p, real: target, env: Object.keys(env).sort() });
  }
}
