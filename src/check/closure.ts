import path from 'node:path';
import { elfObjects, sonameIndex, type ElfObject } from '../elf/graph.js';
import { LAYER_ROOT } from '../relocate/placement.js';
import { dropLinksTo, followLinks } from '../tree/links.js';
import type { FileTree } from '../tree/types.js';

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
}

const DYNAMIC_LOADER = /^(ld-linux(-[\w-]+)?\.so\.\d+|ld64\.so\.\d+)$/;

/** The directories an object's DT_RUNPATH/DT_RPATH names, with $ORIGIN expanded. */
export function searchDirs(obj: ElfObject): string[] {
  const dyn = obj.elf.dynamic;
  const spec = dyn?.runpath?.value ?? dyn?.rpath?.value ?? '';
  const origin = path.posix.dirname(obj.path);
  return spec
    .split(':')
    .filter(Boolean)
    .map((d) => path.posix.normalize(d.replace(/\$(ORIGIN|\{ORIGIN\})/g, origin)).replace(/\/+$/, ''));
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
export function checkClosure(layer: FileTree, runtimeLibraries: readonly string[]): ClosureReport {
  const unreadable: ClosureReport['unreadable'] = [];
  const objects = elfObjects(layer, (file, why) => unreadable.push({ file, why }));
  const missing: MissingLibrary[] = [];
  for (const [file, sonames] of unmetNeeds(layer, objects, runtimeLibraries)) for (const soname of sonames) missing.push({ file, soname });
  missing.sort((a, b) => a.file.localeCompare(b.file) || a.soname.localeCompare(b.soname));
  return { checked: objects.size, missing, unreadable };
}

/** A file left out of the layer because a library it needs is nowhere, and nothing links to it. */
export interface LeftOutModule {
  file: string;
  /** The first soname it needs that neither the layer nor the runtime has. */
  soname: string;
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
export function leaveOutUnloadableModules(layer: FileTree, runtimeLibraries: readonly string[]): LeftOutModule[] {
  const leftOut: LeftOutModule[] = [];
  for (;;) {
    const objects = elfObjects(layer);
    const unmet = unmetNeeds(layer, objects, runtimeLibraries);
    if (unmet.size === 0) break;
    const reachable = reachableFromExecutables(layer, objects);
    const drop = [...unmet.keys()].filter((f) => !reachable.has(f)).sort();
    if (drop.length === 0) break;
    for (const f of drop) {
      layer.delete(f);
      leftOut.push({ file: f, soname: unmet.get(f)![0]! });
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
      if (hit) queue.push(followLinks(layer, hit));
    }
  }
  return seen;
}
