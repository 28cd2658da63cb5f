import path from 'node:path';
import { elfObjects, type ElfObject } from '../elf/graph.js';
import { globToRegExp, matchesAny } from '../relocate/glob.js';
import type { PackageFamily, UnusableGroup } from '../registry/types.js';
import { dropLinksTo } from '../tree/links.js';
import { resolvePath } from '../tree/resolve.js';
import type { ContentMemo } from '../tree/content-memo.js';
import type { FileTree } from '../tree/types.js';
import type { UnusableLeftOut } from '../format/layer-manifest.js';

export type { UnusableLeftOut };

export interface UnusableOptions {
  family: PackageFamily;
  /** Packages the user named: never left out, whatever the data says. */
  requested: readonly string[];
  /** Group ids to keep (`--keep-unusable`), or every group. */
  keep: readonly string[] | 'all';
  /** The build's parses of contents (tree/content-memo.ts): relocation reads the same files next. */
  memo?: ContentMemo;
}

/**
 * Leaves out of a staged root what cannot work on Lambda (registry/unusable-on-lambda.json): the
 * files a group's paths or packages match, then the shared libraries that only those files needed,
 * through DT_NEEDED and repeatedly (mesa's drivers → LLVM → z3). A library that anything kept
 * needs stays, and so does every file of a package the user named. Links to what went go too.
 * Mutates `staged`; returns one entry per group that left something out.
 */
export function leaveOutUnusable(staged: FileTree, groups: readonly UnusableGroup[], opts: UnusableOptions): UnusableLeftOut[] {
  const requested = new Set(opts.requested);
  const active = groups.filter((g) => opts.keep !== 'all' && !opts.keep.includes(g.id));
  const matchers = active.map((g) => ({ group: g, globs: g.paths.map(globToRegExp), packages: new Set(g.packages[opts.family]) }));

  const groupOf = new Map<string, UnusableGroup>();
  // a group's directories (systemd's empty *.target.wants) go only if nothing else is left in them
  const groupDirs = new Set<string>();
  for (const e of staged.values()) {
    if (e.pkg !== undefined && requested.has(e.pkg)) continue;
    const m = matchers.find((m) => (e.pkg !== undefined && m.packages.has(e.pkg)) || matchesAny(e.path, m.globs));
    if (!m) continue;
    if (e.kind === 'dir') groupDirs.add(e.path);
    else groupOf.set(e.path, m.group);
  }
  if (groupOf.size === 0) return [];

  const objects = elfObjects(staged, undefined, opts.memo);
  const needs = neededFiles(staged, objects);
  // libraries reached from what goes, and what every kept object reaches: the difference goes too
  const reachedFromGone = reach([...groupOf.keys()], needs);
  const roots = [...objects.keys()].filter((p) => !groupOf.has(p) && !reachedFromGone.has(p));
  const kept = reach(roots, needs);
  const pruned = new Map<string, UnusableGroup>();
  for (const [lib, from] of reachedFromGone) {
    const e = staged.get(lib);
    if (groupOf.has(lib) || kept.has(lib) || !e || (e.pkg !== undefined && requested.has(e.pkg))) continue;
    pruned.set(lib, groupOf.get(from)!);
  }

  const report = new Map<string, UnusableLeftOut>();
  const entry = (g: UnusableGroup) => {
    const r = report.get(g.id) ?? { id: g.id, what: g.what, why: g.why, files: 0, bytes: 0, libraries: [], libraryBytes: 0 };
    report.set(g.id, r);
    return r;
  };
  const removed = new Set<string>();
  for (const [p, g] of groupOf) {
    const e = staged.get(p)!;
    if (e.kind === 'file') {
      const r = entry(g);
      r.files++;
      r.bytes += e.size;
    }
    staged.delete(p);
    removed.add(p);
  }
  for (const [p, g] of [...pruned].sort(([a], [b]) => (a < b ? -1 : 1))) {
    const e = staged.get(p)!;
    const r = entry(g);
    r.libraries.push(path.posix.basename(p));
    if (e.kind === 'file') r.libraryBytes += e.size;
    staged.delete(p);
    removed.add(p);
  }
  dropLinksTo(staged, removed);
  dropEmptiedDirs(staged, removed, groupDirs);
  return active.flatMap((g) => report.get(g.id) ?? []);
}

/**
 * The files each ELF object's DT_NEEDED entries name: a file of that name or DT_SONAME anywhere in
 * the tree (a staged root holds one copy of each library, in whichever directory its package put
 * it), symlinks followed.
 */
function neededFiles(tree: FileTree, objects: Map<string, ElfObject>): Map<string, string[]> {
  const bySoname = new Map<string, string[]>();
  const add = (so: string, p: string) => {
    const list = bySoname.get(so) ?? [];
    if (!list.includes(p)) list.push(p);
    bySoname.set(so, list);
  };
  for (const e of tree.values()) {
    if (e.kind === 'dir') continue;
    // partial: a staged root need not list its directories
    const real = resolvePath(tree, e.path, { treeIs: 'partial' });
    if (real.kind === 'found' && objects.has(real.path)) add(path.posix.basename(e.path), real.path);
  }
  for (const o of objects.values()) if (o.elf.dynamic?.soname) add(o.elf.dynamic.soname, o.path);
  const out = new Map<string, string[]>();
  for (const o of objects.values())
    out.set(
      o.path,
      (o.elf.dynamic?.needed ?? []).flatMap((n) => bySoname.get(n) ?? []),
    );
  return out;
}

/** Every object reachable from `starts` through `needs` (the starts excluded), with the start that first reached it. */
function reach(starts: readonly string[], needs: Map<string, string[]>): Map<string, string> {
  const seen = new Map<string, string>();
  const queue = starts.map((s) => [s, s] as const);
  const visited = new Set(starts);
  while (queue.length) {
    const [p, from] = queue.shift()!;
    for (const lib of needs.get(p) ?? []) {
      if (visited.has(lib)) continue;
      visited.add(lib);
      seen.set(lib, from);
      queue.push([lib, from]);
    }
  }
  return seen;
}

/**
 * Directories that held only what was removed (lib/dri, lib/vdpau), and a group's own directories
 * that are empty: an empty directory is noise. Others' empty directories stay.
 */
function dropEmptiedDirs(tree: FileTree, removed: Set<string>, groupDirs: Set<string>): void {
  const children = new Map<string, number>();
  for (const p of tree.keys()) children.set(path.posix.dirname(p), (children.get(path.posix.dirname(p)) ?? 0) + 1);
  const starts = new Set([...removed].map((p) => path.posix.dirname(p)));
  // deepest first, so a group directory whose only children are group directories empties too
  for (const d of [...groupDirs].sort((a, b) => b.length - a.length)) if (!children.get(d)) starts.add(d);
  for (const start of starts) {
    for (let cur = start; cur !== '/' && tree.get(cur)?.kind === 'dir' && !children.get(cur); cur = path.posix.dirname(cur)) {
      tree.delete(cur);
      const parent = path.posix.dirname(cur);
      children.set(parent, (children.get(parent) ?? 1) - 1);
    }
  }
}
