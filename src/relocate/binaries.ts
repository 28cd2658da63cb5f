import { elfObjects, neededClosure, sonameIndex } from '../elf/graph.js';
import { ensureLibraryPath, findExactStrings, setInterpreter } from '../elf/patch.js';
import { ET_DYN, ET_EXEC } from '../elf/read.js';
import { ContentMemo } from '../tree/content-memo.js';
import { readContent, type Content, type FileEntry, type TreeEntry } from '../tree/types.js';
import { nameIndex, planDirectoryEdits, scanDirectoryStrings, type DirectoryRewrite, type DirectoryStrings } from './directories.js';
import { relocatedAddress } from './placement.js';
import type { PathMap } from './paths.js';
import { changesOnlyRoot, type SubpathLink } from './subpaths.js';
import { LAYER_ROOT } from '../format/lambda.js';

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
  /** Self-contained layers: programs whose ELF interpreter now names the layer's loader. */
  interpreters: Array<{ file: string; from: string; to: string }>;
  /** Self-contained layers: programs that could not be pointed at the layer's loader, and why. */
  interpreterFailed: Array<{ file: string; why: string }>;
  /**
   * Links the rewritten strings need, by path: their kept tails name the distribution's sub-paths
   * (/opt/lib/x86_64-linux-gnu → ., /opt/fonts → etc/fonts).
   */
  links: Map<string, string>;
  /** Files that must be ELF objects and are not readable ones (graph.ts readElfEntry): shipped as they are, not relocated. */
  unreadable: Array<{ file: string; why: string }>;
}

export const LAYER_LIB_DIR = `${LAYER_ROOT}/lib`;

/**
 * Rewrites every ELF file of the layer in place: compiled-in paths to files the layer ships
 * move to their new place, and executables (and objects that already have a search path) look
 * in /opt/lib first. `save` keeps the new bytes (memory or a content store).
 */
/** How the programs of a layer that carries its own C library find it (clibrary.ts). */
export interface OwnCLibrary {
  /** Library directories every program searches, in order, through its RPATH. */
  libraryDirs: readonly string[];
  /** The ELF interpreter every program names. */
  interpreter: string;
}

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
  own?: OwnCLibrary,
  /** The run's parses of contents (content-memo.ts), shared with the steps after relocation. */
  memo: ContentMemo = new ContentMemo(),
): BinaryReport {
  const libraryDirs = own?.libraryDirs ?? [LAYER_LIB_DIR];
  const dirs = scanDirectories(layer, paths, libraryDirs, memo);
  const report: BinaryReport = {
    rewrittenPaths: [],
    rewrittenDirs: [],
    unrewritable: [],
    libraryPath: [],
    libraryPathFailed: [],
    interpreters: [],
    interpreterFailed: [],
    links: new Map(),
    unreadable: dirs.unreadable,
  };
  const mapSearchDir = (dir: string) => {
    if (dir.includes('$ORIGIN') || dir.includes('${ORIGIN}')) return dir;
    const addr = relocatedAddress(dir.replace(/\/+$/, ''), triplet);
    return addr !== dir && paths.shipped(dir.replace(/\/+$/, '')) ? addr : dir;
  };
  for (const [p, e] of layer) {
    if (e.kind !== 'file' || !dirs.objects.has(p)) continue;
    // read when an edit needs the bytes, not before: the scan (scanDirectories) found the strings,
    // and most libraries need no edit at all
    let original: Buffer | undefined;
    let buf: Buffer | undefined;
    const bytesNow = (): Buffer => {
      if (buf === undefined) {
        original = readContent(e.content);
        buf = original;
      }
      return buf;
    };
    // one copy per file, made at its first edit (the content may be the cache's own buffer): a
    // copy per edit took 100 s of relocating Chromium, hundreds of edits to a 250 MB binary
    const write = (offset: number, value: string) => {
      if (bytesNow() === original) buf = Buffer.from(original);
      buf!.write(value, offset, 'latin1');
    };
    const elf = dirs.objects.get(p)!.elf;
    let changed = false;
    for (const found of dirs.scans.get(p)!.found) {
      const r = paths.forBinary(found.value);
      if (!r) continue;
      if (r.kind === 'cannot') {
        report.unrewritable.push({ file: p, path: found.value, why: r.why });
        continue;
      }
      addLinks(report, r.links);
      write(found.offset, r.to);
      changed = true;
      report.rewrittenPaths.push({ file: p, from: found.value, to: r.to });
    }
    // a package's program and its own libraries share the directories it was configured with
    const loads = [...neededClosure(p, dirs.objects, dirs.sonames, follow)].flatMap((n) => {
      const lib = dirs.sonames.get(n);
      const real = lib && (follow(lib) ?? lib);
      return real && e.pkg !== undefined && layer.get(real)?.pkg === e.pkg ? [real] : [];
    });
    const planned = planDirectoryEdits(p, dirs.scans, loads, paths);
    for (const d of planned.edits) {
      write(d.offset, d.to);
      changed = true;
      report.rewrittenDirs.push({ file: p, from: d.from, to: d.to, because: d.because });
    }
    addLinks(report, planned.links);
    for (const c of planned.cannot) report.unrewritable.push({ file: p, ...c });
    const from = origin(p) ?? p;
    for (const rule of exact) {
      if (!rule.files.some((g) => g.test(from))) continue;
      // the recipe's replacement obeys the rule every in-place edit does: the tail stays
      if (!changesOnlyRoot(rule.from, rule.to)) {
        report.unrewritable.push({ file: p, path: rule.from, why: `recipe replacement ${rule.to} changes more than the root of ${rule.from} (or its length)` });
        continue;
      }
      for (const at of findExactStrings(bytesNow(), rule.from, elf)) {
        write(at, rule.to);
        changed = true;
        report.rewrittenPaths.push({ file: p, from: rule.from, to: rule.to });
      }
    }
    const isExecutable = (elf.type === ET_EXEC || elf.type === ET_DYN) && elf.interpreter !== undefined;
    if (own && elf.interpreter !== undefined && elf.interpreter !== own.interpreter) {
      const r = setInterpreter(bytesNow(), own.interpreter);
      if ('error' in r) report.interpreterFailed.push({ file: p, why: r.error });
      else {
        buf = r.data;
        changed = true;
        report.interpreters.push({ file: p, from: elf.interpreter, to: own.interpreter });
      }
    }
    const hasSearchPath = !!(elf.dynamic?.runpath || elf.dynamic?.rpath);
    if (elf.dynamic && (isExecutable || hasSearchPath)) {
      const r = ensureLibraryPath(bytesNow(), libraryDirs, mapSearchDir);
      if ('error' in r) {
        if (isExecutable) report.libraryPathFailed.push({ file: p, why: r.error });
      } else {
        buf = r.data;
        changed = true;
        report.libraryPath.push({ file: p, how: `${r.how} ${r.value.replace(/\/{2,}/g, '/')}` });
      }
    }
    if (changed) layer.set(p, { ...e, content: save(buf!), size: buf!.length });
  }
  return report;
}

function addLinks(report: BinaryReport, links: readonly SubpathLink[]): void {
  for (const l of links) report.links.set(l.link, l.target);
}

/**
 * Every ELF file of the layer parsed once, with its strings (directories, paths) and the layer's
 * sonames. Each content is read and scanned once, whatever the number of its names: the scans
 * depend on this relocation's PathMap, so their memo is this call's, while the parses (content
 * only) are the run's.
 */
function scanDirectories(layer: Map<string, TreeEntry>, paths: PathMap, libraryDirs: readonly string[], memo: ContentMemo) {
  const unreadable: Array<{ file: string; why: string }> = [];
  // only ELF files are read whole (elfObjects reads the head of the rest): a data file may be gigabytes
  const objects = elfObjects(layer, (file, why) => unreadable.push({ file, why }), memo);
  const scans = new Map<string, DirectoryStrings>();
  const index = nameIndex(paths);
  const scanned = new ContentMemo(memo.computed);
  for (const [p, { elf }] of objects) {
    const content = (layer.get(p) as FileEntry).content;
    scans.set(
      p,
      scanned.get(content, 'directory-strings', () => scanDirectoryStrings(readContent(content), elf, paths, index)),
    );
  }
  return { objects, scans, unreadable, sonames: sonameIndex(layer, objects, libraryDirs) };
}
