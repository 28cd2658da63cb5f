import path from 'node:path';
import { elfObjects } from '../elf/graph.js';
import type { Runtime } from '../registry/types.js';
import { PRIVATE_LIBRARY_DIR } from '../relocate/self-contained.js';
import type { FileTree } from '../tree/types.js';
import { compareVersionNames, newestVersion, recordFor, unmetVersions } from './versions.js';

/**
 * Whether code that loads a self-contained layer's libraries in-process (a Node addon, Python
 * ctypes) can: it runs on the runtime's C and C++ runtime, already loaded, not the layer's, so
 * every version the libraries need of those must be one the runtime's define. Pure.
 */
export interface InProcessUse {
  /** The newest version a library needs that the runtime lacks (GLIBC_2.38), or else the newest GLIBC one they need. */
  needs?: string;
  /** The newest GLIBC version the runtime's C library defines, when its manifest records it. */
  runtimeHas?: string;
  usable: boolean;
}

export function inProcessUse(layer: FileTree, runtime: Runtime): InProcessUse {
  const libs: FileTree = new Map([...layer].filter(([p, e]) => e.kind !== 'dir' && path.posix.dirname(p) === PRIVATE_LIBRARY_DIR));
  const objects = new Map([...elfObjects(libs)].filter(([, o]) => o.elf.interpreter === undefined));
  const lacking = unmetVersions(libs, objects, runtime, { inProcess: true }).filter((p) => 'runtime' in p.provider);
  const record = recordFor(runtime.symbolVersions ?? [], 'libc.so.6');
  const runtimeHas = record ? newestVersion(record.versions, 'GLIBC') : undefined;
  const glibcNeeded = [...objects.values()].flatMap((o) =>
    (o.elf.dynamic?.versionNeeds ?? []).filter((n) => n.file === 'libc.so.6').flatMap((n) => n.versions.filter((v) => !v.weak).map((v) => v.name)),
  );
  const needs = lacking.length
    ? lacking
        .map((p) => p.version)
        .sort(compareVersionNames)
        .at(-1)
    : newestVersion(glibcNeeded, 'GLIBC');
  return { ...(needs ? { needs } : {}), ...(runtimeHas ? { runtimeHas } : {}), usable: lacking.length === 0 };
}
