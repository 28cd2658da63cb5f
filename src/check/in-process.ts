import path from 'node:path';
import { elfObjects } from '../elf/graph.js';
import type { Runtime } from '../registry/types.js';
import { PRIVATE_LIBRARY_DIR } from '../relocate/self-contained.js';
import type { FileTree } from '../tree/types.js';
import { compareVersionNames, newestVersion, recordFor } from './versions.js';

/**
 * Whether code that loads a self-contained layer's libraries in-process (a Node addon, Python
 * ctypes) can: it runs on the runtime's C library and loader, not the layer's, so every GLIBC
 * version the libraries need must be one the runtime's libc.so.6 defines. Pure.
 */
export interface InProcessUse {
  /** The newest GLIBC version a shipped library needs. */
  needs?: string;
  /** The newest the runtime's C library defines, when its manifest records it. */
  runtimeHas?: string;
  usable: boolean;
}

export function inProcessUse(layer: FileTree, runtime: Runtime): InProcessUse {
  const libs = new Map([...layer].filter(([p, e]) => e.kind === 'file' && path.posix.dirname(p) === PRIVATE_LIBRARY_DIR));
  const needs = [...elfObjects(libs).values()]
    .filter((o) => o.elf.interpreter === undefined)
    .flatMap((o) => (o.elf.dynamic?.versionNeeds ?? []).filter((n) => n.file === 'libc.so.6').flatMap((n) => n.versions.filter((v) => !v.weak).map((v) => v.name)));
  const newest = newestVersion(needs, 'GLIBC');
  const record = recordFor(runtime.symbolVersions ?? [], 'libc.so.6');
  const runtimeHas = record ? newestVersion(record.versions, 'GLIBC') : undefined;
  const usable = !newest || (runtimeHas !== undefined && compareVersionNames(newest, runtimeHas) <= 0);
  return { ...(newest ? { needs: newest } : {}), ...(runtimeHas ? { runtimeHas } : {}), usable };
}
