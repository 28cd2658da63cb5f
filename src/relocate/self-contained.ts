/**
 * Self-contained layers (`--from`) carry the source distribution's C library, and libraries built
 * against it. None of their shared libraries may stay on Lambda's LD_LIBRARY_PATH, which ends in
 * /opt/lib: the runtime's own processes (node, python, the shell, the `#!/bin/bash` of a
 * wrapper) search it, and a runtime whose libraries are not on that path (a Debian image: they
 * are in /lib/<triplet>) would load the layer's libc, or a library that needs a newer one
 * (`version 'GLIBC_2.38' not found`), into its own programs. So every shared library of
 * /opt/lib moves to PRIVATE_LIBRARY_DIR, which nothing searches but the RPATH yumda gives the
 * layer's programs, and each program's ELF interpreter names the layer's loader there by a fixed
 * path (layers always mount at /opt): the kernel starts the program itself, so /proc/self/exe,
 * argv[0] and re-execution keep working, as they would not under a launcher that runs
 * `ld.so PROGRAM`. Modules in subdirectories of /opt/lib (plugins, gconv) stay: no search path
 * holds them. Pure over the tree.
 */
import path from 'node:path';
import type { TreeEntry } from '../tree/types.js';
import { absoluteLinkTarget, relativeLink } from '../tree/links.js';
import { LAYER_ROOT } from '../format/lambda.js';

/** The self-contained part of a layer: its libraries and loader. A top-level name, so a packed tree moves it to /tmp too. */
export const SELF_CONTAINED_ROOT = `${LAYER_ROOT}/self`;

/** Where a self-contained layer keeps its shared libraries, its C library among them. */
export const PRIVATE_LIBRARY_DIR = `${SELF_CONTAINED_ROOT}/lib`;

/**
 * The interpreter every program of a self-contained layer names: a link to the loader. Short, so
 * it fits in place of every distribution's (`/lib64/ld-linux-x86-64.so.2`, `/lib/ld-linux-aarch64.so.1`).
 */
export const PRIVATE_INTERPRETER = `${PRIVATE_LIBRARY_DIR}/ld.so`;

/** The library directories a self-contained layer's programs search, in order. */
export const SELF_CONTAINED_LIBRARY_DIRS = [PRIVATE_LIBRARY_DIR, `${LAYER_ROOT}/lib`] as const;

/** Dynamic loaders by file name, on every architecture glibc supports here. */
const LOADER = /^ld-linux(-[\w-]+)?\.so\.\d+$|^ld64\.so\.\d+$/;

/** A shared object's file name (libc.so.6, libfoo.so, libgallium-25.0.so, libnss_files.so.2). */
const SHARED_OBJECT = /\.so(\.\d+)*$/;

export interface PrivateLibraries {
  /** The package that ships the loader: the C library's. */
  package: string;
  /** The loader's file name (ld-linux-x86-64.so.2). */
  loader: string;
  /** Layer paths moved into PRIVATE_LIBRARY_DIR: from, to. */
  moved: Array<{ from: string; to: string }>;
}

/**
 * Moves every shared object directly in /opt/lib (files and the links named like them) to
 * PRIVATE_LIBRARY_DIR, points the links that led to them at their new place, and adds the
 * interpreter link. Returns what it did, or why it could not: a layer without a loader cannot be
 * self-contained.
 */
export function privatizeLibraries(placed: Map<string, TreeEntry>): PrivateLibraries | { error: string } {
  const libDir = `${LAYER_ROOT}/lib`;
  const loaderEntry = [...placed.values()].find((e) => e.kind === 'file' && path.posix.dirname(e.path) === libDir && LOADER.test(path.posix.basename(e.path)));
  if (!loaderEntry?.pkg) return { error: 'the packages ship no dynamic loader (ld-linux*.so.*) in their library directory, so the layer cannot carry its own C library' };
  const moved = new Map<string, string>();
  for (const [p, e] of placed) {
    if (e.kind === 'dir' || path.posix.dirname(p) !== libDir || !SHARED_OBJECT.test(path.posix.basename(p))) continue;
    moved.set(p, `${PRIVATE_LIBRARY_DIR}/${path.posix.basename(p)}`);
  }
  const where = (abs: string) => moved.get(abs) ?? abs;
  for (const [from, to] of moved) {
    const e = placed.get(from)!;
    placed.delete(from);
    placed.set(to, e.kind === 'symlink' ? { ...e, path: to, target: relativeLink(to, where(absoluteLinkTarget(from, e.target))) } : { ...e, path: to });
  }
  // links elsewhere that led to what moved
  const movedTo = new Set(moved.values());
  for (const [p, e] of placed) {
    if (e.kind !== 'symlink' || movedTo.has(p)) continue;
    const abs = absoluteLinkTarget(p, e.target);
    if (moved.has(abs)) placed.set(p, { ...e, target: relativeLink(p, moved.get(abs)!) });
  }
  const loader = path.posix.basename(loaderEntry.path);
  placed.set(PRIVATE_INTERPRETER, { kind: 'symlink', path: PRIVATE_INTERPRETER, target: loader, pkg: loaderEntry.pkg });
  return { package: loaderEntry.pkg, loader, moved: [...moved].map(([from, to]) => ({ from, to })).sort((a, b) => a.from.localeCompare(b.from)) };
}
