import path from 'node:path';
import { elfObjects, searchDirs, sonameIndex, type ElfObject } from '../elf/graph.js';
import { dropLinksTo } from '../tree/links.js';
import { resolvePath } from '../tree/resolve.js';
import type { ContentMemo } from '../tree/content-memo.js';
import type { FileTree } from '../tree/types.js';
import { DYNAMIC_LOADER, shippedCLibrary, unmetVersions, type RuntimeVersions, type VersionProblem } from './versions.js';
import { LAYER_ROOT } from '../format/lambda.js';

export interface MissingLibrary {
  /** The shipped ELF file that needs the library. */
  file: string;
  soname: string;
}

export interface ClosureReport {
  /** ELF files checked. */
  checked: number;
  missing: MissingLibrary[];
  /** Files that start like ELF but could not be parsed. */
  unreadable: Array<{ file: string; why: string }>;
  /** Symbol versions shipped files need that the library they load lacks (checked when the runtime's versions are given). */
  versions: VersionProblem[];
  /** Files that would replace the runtime's C library (libc.so.6, the loader) in a layer that is not self-contained. */
  cLibrary: string[];
}

export interface ClosureOptions {
  /** The runtime's recorded symbol versions: with them, version needs are checked too. */
  runtime?: RuntimeVersions;
  /**
   * The layer carries its own C library and loader (`--from`): its copies satisfy version needs
   * first (as every other library the layer ships does), and shipping them is the point.
   */
  selfContained?: boolean;
  /** The build's parses of contents (tree/content-memo.ts): relocation parsed most of the layer already. */
  memo?: ContentMemo;
}

/**
 * Every soname the layer holds anywhere: file names and DT_SONAMEs, in any directory. A library in
 * a private directory, off every search path, still satisfies later DT_NEEDED entries once its
 * program has loaded it by path (a language runtime's VM library is the usual case).
 */
function sonamesAnywhere(layer: FileTree, objects: Map<string, ElfObject>): Set<string> {
  const all = new Set<string>();
  for (const e of layer.values()) if (e.kind !== 'dir') all.add(path.posix.basename(e.path));
  for (const o of objects.values()) if (o.elf.dynamic?.soname) all.add(o.elf.dynamic.soname);
  return all;
}

/** The needs of each object that nothing in the layer or the runtime satisfies, by object path. */
function unmetNeeds(layer: FileTree, objects: Map<string, ElfObject>, runtimeLibraries: readonly string[]): Map<string, string[]> {
  const layerLibs = sonameIndex(layer, objects, [`${LAYER_ROOT}/lib`]);
  const anywhere = sonamesAnywhere(layer, objects);
  const runtime = new Set(runtimeLibraries);
  const out = new Map<string, string[]>();
  for (const obj of objects.values()) {
    // the dynamic loader is the runtime's on every architecture (a layer cannot ship glibc), and
    // runtime manifests list one architecture's files: ld-linux-aarch64.so.1 is as present as
    // ld-linux-x86-64.so.2
    const needed = (obj.elf.dynamic?.needed ?? []).filter((n) => !DYNAMIC_LOADER.test(n));
    const own = searchDirs(obj);
    const unmet = needed.filter((soname) => {
      if (layerLibs.has(soname) || runtime.has(soname) || anywhere.has(soname)) return false;
      if (soname.includes('/') && layer.has(soname)) return false;
      return !own.some((d) => layer.has(`${d}/${soname}`));
    });
    if (unmet.length) out.set(obj.path, unmet);
  }
  return out;
}

/**
 * Every DT_NEEDED of every ELF file in the layer must be met: by the layer's library directory, a
 * directory the object's own RUNPATH/RPATH names, a library of that soname anywhere in the layer
 * (see sonamesAnywhere), or the runtime's libraries. What is not is reported by file and soname.
 */
export function checkClosure(layer: FileTree, runtimeLibraries: readonly string[], opts: ClosureOptions = {}): ClosureReport {
  const unreadable: ClosureReport['unreadable'] = [];
  const objects = elfObjects(layer, (file, why) => unreadable.push({ file, why }), opts.memo);
  const missing: MissingLibrary[] = [];
  for (const [file, sonames] of unmetNeeds(layer, objects, runtimeLibraries)) for (const soname of sonames) missing.push({ file, soname });
  missing.sort((a, b) => a.file.localeCompare(b.file) || a.soname.localeCompare(b.soname));
  const versions = opts.runtime ? unmetVersions(layer, objects, opts.runtime) : [];
  const cLibrary = opts.selfContained ? [] : shippedCLibrary(layer, objects);
  return { checked: objects.size, missing, unreadable, versions, cLibrary };
}

/** A file left out of the layer because a library it needs is nowhere, and nothing links to it. */
export interface LeftOutModule {
  file: string;
  /** The first soname it needs that neither the layer nor the runtime has (or whose version is missing). */
  soname: string;
  /** Set when the soname is there but lacks a symbol version the module needs. */
  version?: string;
}

/**
 * Leaves out the optional parts of a closure whose libraries the package manager itself does not
 * install: a shared object that no executable reaches through DT_NEEDED and that needs a library
 * neither the layer nor the runtime has is a module loaded with dlopen (a plugin, an output
 * driver), which the program runs without, as it does after `apt-get install`. Shipping it would
 * only fail the closure check. Repeated until nothing changes: a library that only such modules
 * needed, and that itself lacks one, goes too. Executables, and libraries they reach, are never
 * left out: their missing libraries are the closure check's to report. Symlinks to what was left
 * out go with it. Mutates `layer`; pure otherwise.
 */
export function leaveOutUnloadableModules(layer: FileTree, runtimeLibraries: readonly string[], runtime?: RuntimeVersions, memo?: ContentMemo): LeftOutModule[] {
  const leftOut: LeftOutModule[] = [];
  for (;;) {
    const objects = elfObjects(layer, undefined, memo);
    const unmet = new Map<string, Omit<LeftOutModule, 'file'>>();
    for (const [f, sonames] of unmetNeeds(layer, objects, runtimeLibraries)) unmet.set(f, { soname: sonames[0]! });
    // a module whose library lacks a version it needs fails dlopen the same way
    for (const v of runtime ? unmetVersions(layer, objects, runtime) : []) if (!unmet.has(v.file)) unmet.set(v.file, { soname: v.library, version: v.version });
    if (unmet.size === 0) break;
    const reachable = reachableFromExecutables(layer, objects);
    const drop = [...unmet.keys()].filter((f) => !reachable.has(f)).sort();
    if (drop.length === 0) break;
    for (const f of drop) {
      layer.delete(f);
      leftOut.push({ file: f, ...unmet.get(f)! });
    }
    dropLinksTo(layer, new Set(drop));
  }
  return leftOut;
}

/** Executables (they have a program interpreter) and every object they reach through DT_NEEDED. */
function reachableFromExecutables(layer: FileTree, objects: Map<string, ElfObject>): Set<string> {
  const libs = sonameIndex(layer, objects, [`${LAYER_ROOT}/lib`]);
  const bySoname = new Map<string, string>();
  for (const o of objects.values()) {
    const so = o.elf.dynamic?.soname ?? path.posix.basename(o.path);
    if (!bySoname.has(so)) bySoname.set(so, o.path);
  }
  const seen = new Set<string>();
  const queue = [...objects.values()].filter((o) => o.elf.interpreter).map((o) => o.path);
  while (queue.length) {
    const p = queue.pop()!;
    if (seen.has(p)) continue;
    seen.add(p);
    const obj = objects.get(p);
    if (!obj) continue;
    const own = searchDirs(obj);
    for (const n of obj.elf.dynamic?.needed ?? []) {
      const hit = own.map((d) => `${d}/${n}`).find((c) => layer.has(c)) ?? libs.get(n) ?? bySoname.get(n);
      const real = hit ? resolvePath(layer, hit, { treeIs: 'partial' }) : undefined;
      if (real?.kind === 'found') queue.push(real.path);
    }
  }
  return seen;
}
