import path from 'node:path';
import { elfObjects, neededClosure, sonameIndex } from '../elf/graph.js';
import { ET_DYN, ET_EXEC } from '../elf/read.js';
import type { AppliedRecipe } from '../recipes/types.js';
import { bytes, readContent, sortedEntries, type FileEntry, type FileTree, type TreeEntry } from '../tree/types.js';
import { globToRegExp, matchesAny } from './glob.js';
import { LAYER_ROOT, STATE_ROOT, place, placementPriority, relocatedAddress, type DropReason, type LayoutOptions } from './layout.js';
import { absoluteLinkTarget, relativeLink, resolveInTree } from './symlinks.js';
import { isText, rewritePathsInText } from './text.js';
import { envFileContent, wrapperScript, wrappedRealPath } from './wrappers.js';

export interface RelocateInput {
  /** The staged root: packages unpacked at their original paths. */
  staged: FileTree;
  layout: LayoutOptions;
  recipes: AppliedRecipe[];
  /** The runtime's POSIX shell, the interpreter of generated wrappers. */
  shell: string;
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
  rewritten: Array<{ file: string; from: string; to: string }>;
  wrapped: Array<{ program: string; real: string; env: string[] }>;
  env: Record<string, string>;
}

export interface RelocateResult {
  layer: FileTree;
  report: RelocateReport;
}

/** Where the layer keeps what yumda itself writes (manifest, env file). */
export const META_DIR = `${LAYER_ROOT}/.yumda`;

/** Roots of the hierarchy: a path that names one of these is too broad to rewrite in text. */
const HIERARCHY_ROOTS = new Set(['/usr', '/usr/bin', '/usr/sbin', '/usr/lib', '/usr/lib64', '/usr/libexec', '/usr/share', '/usr/include', '/usr/local', '/etc', '/var', '/bin', '/sbin', '/lib', '/lib64', '/opt']);

/**
 * Turns a staged root into a layer rooted at /opt: places every path (layout.ts), retargets
 * symlinks as relative links inside the layer, rewrites paths in config files, applies recipes,
 * and wraps executables whose libraries need environment variables. Pure over the tree.
 */
export function relocate(input: RelocateInput): RelocateResult {
  const { staged, layout, recipes } = input;
  const triplet = layout.triplet;
  const report: RelocateReport = { dropped: {}, droppedLinks: [], collisions: [], rewritten: [], wrapped: [], env: {} };

  const dropGlobs = recipes.flatMap((r) => r.rules.drop).map(globToRegExp);
  const keepGlobs = recipes.flatMap((r) => r.rules.keep).map(globToRegExp);
  const rewriteGlobs = recipes.flatMap((r) => r.rules.rewrite).map(globToRegExp);

  const countDrop = (reason: DropReason, e: TreeEntry) => {
    const d = (report.dropped[reason] ??= { files: 0, bytes: 0 });
    if (e.kind !== 'dir') d.files++;
    if (e.kind === 'file') d.bytes += e.size;
  };

  // 1. place every staged path; `origin` remembers where each layer path came from.
  const placed = new Map<string, TreeEntry>();
  const origin = new Map<string, string>();
  for (const e of sortedEntries(staged.values())) {
    let where = place(e.path, layout);
    if (where.kind === 'drop' && where.reason !== 'system' && where.reason !== 'state' && matchesAny(e.path, keepGlobs)) {
      where = { kind: 'place', to: relocatedAddress(e.path, triplet) };
    }
    if (where.kind === 'place' && matchesAny(e.path, dropGlobs)) where = { kind: 'drop', reason: 'recipe' };
    if (where.kind === 'drop') {
      countDrop(where.reason, e);
      continue;
    }
    const to = where.to;
    const prev = origin.get(to);
    if (prev !== undefined) {
      const prevEntry = placed.get(to)!;
      if (prevEntry.kind === 'dir' && e.kind === 'dir') continue;
      const winner = placementPriority(e.path, triplet) < placementPriority(prev, triplet) ? e.path : prev;
      const loser = winner === prev ? e.path : prev;
      if (!sameEntry(prevEntry, e)) report.collisions.push({ to, kept: winner, lost: loser });
      if (winner === prev) continue;
    }
    placed.set(to, { ...e, path: to });
    origin.set(to, e.path);
  }

  const ancestors = new Set<string>();
  for (const p of placed.keys()) {
    for (let d = path.posix.dirname(p); d !== '/' && !ancestors.has(d); d = path.posix.dirname(d)) ancestors.add(d);
  }
  const lookup = {
    kindAt: (p: string) => placed.get(p)?.kind ?? (ancestors.has(p) ? ('dir' as const) : undefined),
    linkTarget: (p: string) => {
      const e = placed.get(p);
      return e?.kind === 'symlink' ? e.target : undefined;
    },
  };

  // 2. symlinks: resolve against the original root, point at the relocated target relatively.
  for (const [to, e] of placed) {
    if (e.kind !== 'symlink') continue;
    const from = origin.get(to)!;
    const addr = relocatedAddress(absoluteLinkTarget(from, e.target), triplet);
    placed.set(to, { ...e, target: relativeLink(to, addr) });
  }
  // Links whose target the layer does not ship would dangle (or point into whatever the host
  // has there): drop them, and again for links that pointed at a dropped link.
  for (let changed = true; changed; ) {
    changed = false;
    for (const [to, e] of placed) {
      if (e.kind !== 'symlink') continue;
      if (resolveInTree(to, lookup) !== undefined) continue;
      placed.delete(to);
      report.droppedLinks.push({ path: origin.get(to)!, target: staged.get(origin.get(to)!)?.kind === 'symlink' ? (staged.get(origin.get(to)!) as { target: string }).target : e.target, why: 'target not in the layer' });
      changed = true;
    }
  }

  // 3. paths inside config files (and files recipes name) to their relocated addresses.
  const stagedDirs = new Set<string>();
  for (const p of staged.keys()) {
    for (let d = path.posix.dirname(p); d !== '/' && !stagedDirs.has(d); d = path.posix.dirname(d)) stagedDirs.add(d);
  }
  const shippedAddress = (p: string): string | undefined => {
    if (HIERARCHY_ROOTS.has(p)) return undefined;
    if (p.startsWith('/var/')) return STATE_ROOT + p.slice('/var'.length);
    if (!staged.has(p) && !stagedDirs.has(p)) return undefined;
    const addr = relocatedAddress(p, triplet);
    if (addr === p || !addr.startsWith(LAYER_ROOT + '/')) return undefined;
    return lookup.kindAt(addr) !== undefined ? addr : undefined;
  };
  for (const [to, e] of placed) {
    if (e.kind !== 'file') continue;
    const from = origin.get(to)!;
    const isConfig = from.startsWith('/etc/') || matchesAny(from, rewriteGlobs);
    if (!isConfig || e.size > 4 * 1024 * 1024) continue;
    const buf = readContent(e.content);
    if (!isText(buf)) continue;
    const { text, rewrites } = rewritePathsInText(buf.toString('utf8'), shippedAddress);
    if (rewrites.length === 0) continue;
    const data = Buffer.from(text);
    placed.set(to, { ...e, content: bytes(data), size: data.length });
    for (const r of rewrites) report.rewritten.push({ file: to, from: r.from, to: r.to });
  }

  // 4. files recipes generate.
  for (const r of recipes) {
    for (const g of r.rules.generate) {
      const data = Buffer.from(g.content);
      placed.set(g.path, { kind: 'file', path: g.path, mode: g.mode ? parseInt(g.mode, 8) : 0o644, size: data.length, content: bytes(data), pkg: r.matchedPackage });
    }
  }

  // 5. environment: wrappers for the programs that need it, and a file for everything else.
  for (const r of recipes) Object.assign(report.env, r.rules.env);
  wrapPrograms(placed, lookup, recipes, input.shell, report);
  if (Object.keys(report.env).length > 0) {
    const data = Buffer.from(envFileContent(report.env));
    placed.set(`${META_DIR}/env`, { kind: 'file', path: `${META_DIR}/env`, mode: 0o644, size: data.length, content: bytes(data) });
  }

  // 6. every directory on the way to an entry exists in the layer.
  const layer: FileTree = new Map();
  for (const e of sortedEntries(placed.values())) {
    for (let d = path.posix.dirname(e.path); d !== '/' && d !== LAYER_ROOT && !layer.has(d) && !placed.has(d); d = path.posix.dirname(d)) {
      layer.set(d, { kind: 'dir', path: d, mode: 0o755 });
    }
    layer.set(e.path, e);
  }
  return { layer: new Map(sortedEntries(layer.values()).map((e) => [e.path, e])), report };
}

function sameEntry(a: TreeEntry, b: TreeEntry): boolean {
  if (a.kind !== b.kind) return false;
  if (a.kind === 'symlink' && b.kind === 'symlink') return a.target === b.target;
  if (a.kind === 'file' && b.kind === 'file') return a.size === b.size && readContent(a.content).equals(readContent(b.content));
  return true;
}

function wrapPrograms(
  placed: Map<string, TreeEntry>,
  lookup: { kindAt(p: string): 'file' | 'dir' | 'symlink' | undefined; linkTarget(p: string): string | undefined },
  recipes: AppliedRecipe[],
  shell: string,
  report: RelocateReport,
): void {
  const wanting = recipes.filter((r) => Object.keys(r.rules.env).length > 0);
  if (wanting.length === 0) return;
  const binDir = `${LAYER_ROOT}/bin`;
  const libDir = `${LAYER_ROOT}/lib`;
  const objects = elfObjects(placed);
  const sonames = sonameIndex(placed, objects, [libDir]);
  const follow = (p: string) => resolveInTree(p, lookup);

  for (const [p, e] of [...placed]) {
    if (path.posix.dirname(p) !== binDir || e.kind === 'dir') continue;
    const real = follow(p);
    if (!real) continue;
    const obj = objects.get(real);
    if (!obj || (obj.elf.type !== ET_EXEC && obj.elf.type !== ET_DYN) || !obj.elf.interpreter) continue;
    const loads = neededClosure(real, objects, sonames, follow);
    const name = path.posix.basename(p);
    const env: Record<string, string> = {};
    for (const r of wanting) {
      if (r.rules.envFor.sonames.some((s) => loads.has(s)) || r.rules.envFor.programs.includes(name)) Object.assign(env, r.rules.env);
    }
    if (Object.keys(env).length === 0) continue;
    let target: string;
    if (e.kind === 'file') {
      target = wrappedRealPath(p);
      placed.set(target, { ...(e as FileEntry), path: target });
    } else {
      target = real;
    }
    const script = Buffer.from(wrapperScript(shell, target, env, wanting.map((r) => r.name)));
    placed.set(p, { kind: 'file', path: p, mode: 0o755, size: script.length, content: bytes(script), ...(e.pkg ? { pkg: e.pkg } : {}) });
    report.wrapped.push({ program: p, real: target, env: Object.keys(env).sort() });
  }
}
