import { elfObjects, neededClosure, sonameIndex } from '../elf/graph.js';
import { ensureLibraryPath, findExactStrings, findPaths, overwrite, padPath } from '../elf/patch.js';
import { ET_DYN, ET_EXEC } from '../elf/read.js';
import { readContent, type Content, type TreeEntry } from '../tree/types.js';
import { nameIndex, planDirectoryEdits, scanDirectoryStrings, type DirectoryRewrite, type DirectoryStrings } from './directories.js';
import { LAYER_ROOT, relocatedAddress } from './placement.js';
import type { PathMap } from './paths.js';

export interface BinaryReport {
  /** Compiled-in paths rewritten in place. */
  rewrittenPaths: Array<{ file: string; from: string; to: string }>;
  /** Compiled-in directories rewritten because the binary names what the layer ships in them (directories.ts). */
  rewrittenDirs: DirectoryRewrite[];
  /** Compiled-in paths to shipped files that could not be rewritten, and why. */
  unrewritable: Array<{ file: string; path: string; why: string }>;
  /** How each object was given the layer's library directory. */
  libraryPath: Array<{ file: string; how: string }>;
  /** Executables that could not be given one (they need LD_LIBRARY_PATH, as on Lambda). */
  libraryPathFailed: Array<{ file: string; why: string }>;
  /** Links /opt/X → etc/X that compiled-in /etc/X paths (rewritten to /opt/X) need. */
  aliases: Map<string, string>;
  /** Files that must be ELF objects and are not readable ones (graph.ts readElfEntry): shipped as they are, not relocated. */
  unreadable: Array<{ file: string; why: string }>;
}

export const LAYER_LIB_DIR = `${LAYER_ROOT}/lib`;

/**
 * Rewrites every ELF file of the layer in place: compiled-in paths to files the layer ships
 * move to their new place, and executables (and objects that already have a search path) look
 * in /opt/lib first. `save` keeps the new bytes (memory or a content store).
 */
export interface ExactStringRule {
  files: RegExp[];
  from: string;
  to: string;
}

export function relocateBinaries(
  layer: Map<string, TreeEntry>,
  paths: PathMap,
  triplet: string,
  save: (data: Buffer) => Content,
  origin: (layerPath: string) => string | undefined,
  exact: ExactStringRule[] = [],
  follow: (layerPath: string) => string | undefined = (p) => p,
): BinaryReport {
  const dirs = scanDirectories(layer, paths);
  const report: BinaryReport = { rewrittenPaths: [], rewrittenDirs: [], unrewritable: [], libraryPath: [], libraryPathFailed: [], aliases: new Map(), unreadable: dirs.unreadable };
  const mapSearchDir = (dir: string) => {
    if (dir.includes('$ORIGIN') || dir.includes('${ORIGIN}')) return dir;
    const addr = relocatedAddress(dir.replace(/\/+$/, ''), triplet);
    return addr !== dir && paths.shipped(dir.replace(/\/+$/, '')) ? addr : dir;
  };
  for (const [p, e] of layer) {
    if (e.kind !== 'file' || !dirs.objects.has(p)) continue;
    let buf = readContent(e.content);
    const elf = dirs.objects.get(p)!.elf;
    let changed = false;
    for (const found of findPaths(buf, elf)) {
      const r = paths.forBinary(found.value);
      if (!r) continue;
      if (r.kind === 'cannot') {
        report.unrewritable.push({ file: p, path: found.value, why: r.why });
        continue;
      }
      if (r.alias) report.aliases.set(r.alias.link, r.alias.target);
      buf = overwrite(buf, found.offset, r.to);
      changed = true;
      report.rewrittenPaths.push({ file: p, from: found.value, to: r.to });
    }
    // a package's program and its own libraries share the directories it was configured with
    const loads = [...neededClosure(p, dirs.objects, dirs.sonames, follow)].flatMap((n) => {
      const lib = dirs.sonames.get(n);
      const real = lib && (follow(lib) ?? lib);
      return real && e.pkg !== undefined && layer.get(real)?.pkg === e.pkg ? [real] : [];
    });
    const planned = planDirectoryEdits(p, dirs.scans, loads, paths, triplet);
    for (const d of planned.edits) {
      buf = overwrite(buf, d.offset, d.to);
      changed = true;
      report.rewrittenDirs.push({ file: p, from: d.from, to: d.to, because: d.because });
    }
    for (const c of planned.cannot) report.unrewritable.push({ file: p, ...c });
    const from = origin(p) ?? p;
    for (const rule of exact) {
      if (!rule.files.some((g) => g.test(from))) continue;
      const padded = padPath(rule.from, rule.to, rule.from.length);
      if (!padded) {
        report.unrewritable.push({ file: p, path: rule.from, why: `recipe replacement ${rule.to} is longer` });
        continue;
      }
      for (const at of findExactStrings(buf, rule.from, elf)) {
        buf = overwrite(buf, at, padded);
        changed = true;
        report.rewrittenPaths.push({ file: p, from: rule.from, to: padded });
      }
    }
    const isExecutable = (elf.type === ET_EXEC || elf.type === ET_DYN) && elf.interpreter !== undefined;
    const hasSearchPath = !!(elf.dynamic?.runpath || elf.dynamic?.rpath);
    if (elf.dynamic && (isExecutable || hasSearchPath)) {
      const r = ensureLibraryPath(buf, LAYER_LIB_DIR, mapSearchDir);
      if ('error' in r) {
        if (isExecutable) report.libraryPathFailed.push({ file: p, why: r.error });
      } else {
        buf = r.data;
        changed = true;
        report.libraryPath.push({ file: p, how: `${r.how} ${r.value.replace(/\/{2,}/g, '/')}` });
      }
    }
    if (changed) layer.set(p, { ...e, content: save(buf), size: buf.length });
  }
  return report;
}

/** Every ELF file of the layer parsed once, with its directory strings and the layer's sonames. */
function scanDirectories(layer: Map<string, TreeEntry>, paths: PathMap) {
  const unreadable: Array<{ file: string; why: string }> = [];
  const objects = elfObjects(layer, (file, why) => unreadable.push({ file, why }));
  const scans = new Map<string, DirectoryStrings>();
  const index = nameIndex(paths);
  for (const [p, { elf }] of objects) scans.set(p, scanDirectoryStrings(readContent((layer.get(p) as { content: Content }).content), elf, paths, index));
  return { objects, scans, unreadable, sonames: sonameIndex(layer, objects, [LAYER_LIB_DIR]) };
}
