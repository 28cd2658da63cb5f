import path from 'node:path';
import { elfObjects, sonameIndex, type ElfObject } from '../elf/graph.js';
import { LAYER_ROOT } from '../relocate/placement.js';
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
 * Every DT_NEEDED of every ELF file in the layer must resolve: in the layer's library directory,
 * in a directory the object's own RUNPATH/RPATH names inside the layer, or among the libraries
 * the runtime ships. What does not is reported by file and soname.
 */
export function checkClosure(layer: FileTree, runtimeLibraries: readonly string[]): ClosureReport {
  const unreadable: ClosureReport['unreadable'] = [];
  const objects = elfObjects(layer, (file, why) => unreadable.push({ file, why }));
  const libDir = `${LAYER_ROOT}/lib`;
  const layerLibs = sonameIndex(layer, objects, [libDir]);
  const runtime = new Set(runtimeLibraries);
  const missing: MissingLibrary[] = [];
  for (const obj of objects.values()) {
    // the dynamic loader is the runtime's on every architecture (a layer cannot ship glibc), and
    // runtime manifests list one architecture's files: ld-linux-aarch64.so.1 is as present as
    // ld-linux-x86-64.so.2
    const needed = (obj.elf.dynamic?.needed ?? []).filter((n) => !DYNAMIC_LOADER.test(n));
    if (needed.length === 0) continue;
    const own = searchDirs(obj);
    for (const soname of needed) {
      if (layerLibs.has(soname) || runtime.has(soname)) continue;
      if (soname.includes('/') && layer.has(soname)) continue;
      if (own.some((d) => layer.has(`${d}/${soname}`))) continue;
      missing.push({ file: obj.path, soname });
    }
  }
  missing.sort((a, b) => a.file.localeCompare(b.file) || a.soname.localeCompare(b.soname));
  return { checked: objects.size, missing, unreadable };
}
