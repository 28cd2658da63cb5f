import path from 'node:path';
import { searchDirs, sonameIndex, type ElfObject } from '../elf/graph.js';
import type { SymbolVersions } from '../registry/types.js';
import { resolvePath } from '../tree/resolve.js';
import type { FileTree } from '../tree/types.js';
import { LAYER_ROOT } from '../format/lambda.js';

/**
 * Symbol versions: a program linked against glibc 2.38 records that it needs `GLIBC_2.38` of
 * libc.so.6 (DT_VERNEED), and the loader refuses to start it where libc.so.6 does not define that
 * version (DT_VERDEF): `version 'GLIBC_2.38' not found`. Every soname can be resolved and the
 * program still not start. Pure: a file tree and what the runtime's manifest records.
 */

/** Version names of the C and C++ runtime, the ones runtime manifests record. */
export const RUNTIME_VERSION = /^(GLIBC|GLIBCXX|CXXABI|GCC)_/;

/** Files of the C and C++ runtime whose version definitions a runtime manifest records: glibc's libraries and loader, libstdc++, libgcc_s. */
export const C_RUNTIME_LIBRARY =
  /^(ld-linux[\w.-]*\.so\.\d+|ld64\.so\.\d+|lib(c|m|mvec|pthread|dl|rt|resolv|util|anl|nsl|BrokenLocale|thread_db|c_malloc_debug|crypt)\.so\.\d+|libstdc\+\+\.so\.6|libgcc_s\.so\.1)$/;

/** The C library proper and its loader: what only a self-contained layer may ship. */
export const C_LIBRARY = /^(libc\.so\.6|ld-linux[\w.-]*\.so\.\d+|ld64\.so\.\d+)$/;

/** The dynamic loader, named for its architecture (ld-linux-x86-64.so.2, ld-linux-aarch64.so.1). */
export const DYNAMIC_LOADER = /^(ld-linux(-[\w-]+)?\.so\.\d+|ld64\.so\.\d+)$/;

/** `GLIBC_2.2.5` → GLIBC and [2, 2, 5]; a name without a number (GLIBC_PRIVATE, GLIBC_ABI_DT_RELR) has no parts. */
export function parseVersionName(name: string): { prefix: string; parts?: number[] } {
  const m = /^(.*?)_(\d+(?:\.\d+)*)$/.exec(name);
  return m ? { prefix: m[1]!, parts: m[2]!.split('.').map(Number) } : { prefix: name };
}

function compareParts(a: readonly number[], b: readonly number[]): number {
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    const d = (a[i] ?? 0) - (b[i] ?? 0);
    if (d) return d;
  }
  return 0;
}

/** Orders version names as their numbers do (GLIBC_2.9 before GLIBC_2.10), names without numbers last. */
export function compareVersionNames(a: string, b: string): number {
  const x = parseVersionName(a);
  const y = parseVersionName(b);
  if (x.prefix !== y.prefix) return x.prefix < y.prefix ? -1 : 1;
  if (x.parts && y.parts) return compareParts(x.parts, y.parts);
  return x.parts ? -1 : y.parts ? 1 : a < b ? -1 : a > b ? 1 : 0;
}

/** The newest numbered version of a family (`GLIBC`) a set defines. */
export function newestVersion(versions: readonly string[], prefix: string): string | undefined {
  return versions
    .filter((v) => parseVersionName(v).prefix === prefix && parseVersionName(v).parts)
    .sort(compareVersionNames)
    .at(-1);
}

/**
 * The oldest GLIBC version of a port, by ELF machine: glibc versions every symbol that predates an
 * architecture's port with the port's version, so aarch64's libresolv defines only GLIBC_2.17
 * where x86_64's defines GLIBC_2.2.5 to GLIBC_2.9. A manifest read on x86_64 then lacks the
 * aarch64 name of versions it has.
 */
export const GLIBC_BASELINE: Readonly<Record<number, readonly number[]>> = { 62: [2, 2, 5], 183: [2, 17] };

/**
 * Whether a runtime library's recorded versions meet a need. A numbered version is met by the same
 * or a newer one of its family: the C and C++ runtimes never drop a version, and a manifest read on
 * x86_64 (whose glibc versions start at GLIBC_2.2.5) then also serves aarch64 (GLIBC_2.17 on). Of
 * the names without a number only GLIBC_ABI_DT_RELR (glibc 2.36's marker for packed relocations,
 * the same on every architecture) must be there as it is: the others are one architecture's
 * (GLIBC_ABI_DT_X86_64_PLT), which a manifest read on another cannot speak for, or GLIBC_PRIVATE,
 * which every glibc defines. `machine`: the ELF machine of the file that needs it, whose port's
 * baseline version (GLIBC_BASELINE) any record of the library meets.
 */
export function recordedHas(versions: readonly string[], need: string, machine?: number): boolean {
  if (versions.includes(need)) return true;
  const n = parseVersionName(need);
  if (!n.parts) return need !== 'GLIBC_ABI_DT_RELR';
  const baseline = machine === undefined ? undefined : GLIBC_BASELINE[machine];
  // every symbol older than the architecture's port is versioned as the port: any record of the library has it
  if (n.prefix === 'GLIBC' && baseline && compareParts(n.parts, baseline) <= 0) return versions.some((v) => parseVersionName(v).prefix === 'GLIBC');
  return versions.some((v) => {
    const p = parseVersionName(v);
    return p.prefix === n.prefix && !!p.parts && compareParts(p.parts, n.parts!) >= 0;
  });
}

/** The runtime's record for a soname (a loader's under any architecture's name). */
export function recordFor(symbolVersions: readonly SymbolVersions[], soname: string): SymbolVersions | undefined {
  return symbolVersions.find((s) => s.soname === soname) ?? (DYNAMIC_LOADER.test(soname) ? symbolVersions.find((s) => DYNAMIC_LOADER.test(s.soname)) : undefined);
}

/** A version a shipped ELF file needs that the library it will load does not define. */
export interface VersionProblem {
  file: string;
  /** The soname the version is needed of. */
  library: string;
  version: string;
  /** Where that library comes from: a file of the layer, or the runtime. */
  provider: { layer: string } | { runtime: string };
  /** The newest version of the same family the provider has, for the message. */
  newest?: string;
}

/** What the runtime's libraries define, as the check takes it. */
export interface RuntimeVersions {
  id: string;
  symbolVersions?: readonly SymbolVersions[];
}

/**
 * Every version each ELF file of the layer needs must be defined by the library the loader will
 * use for it: the layer's own copy when the layer ships that soname (programs find it first
 * through their RPATH; a self-contained layer's own C library this way too), else the runtime's,
 * as its manifest records. Weak references are skipped (the loader only warns), and so is a
 * library that defines no versions at all (the loader only warns there too), and a runtime
 * library the manifest has no record of. A soname nobody has is the closure check's to report.
 *
 * `inProcess`: as code the runtime's own processes load sees it (a Node addon, Python ctypes):
 * the C and C++ runtime is then the runtime's, already loaded, even where the layer ships its own
 * (a self-contained layer): what such code may not use.
 */
export function unmetVersions(layer: FileTree, objects: Map<string, ElfObject>, runtime: RuntimeVersions, opts: { inProcess?: boolean } = {}): VersionProblem[] {
  const layerLibs = sonameIndex(layer, objects, [`${LAYER_ROOT}/lib`]);
  const bySoname = new Map<string, string>();
  for (const o of objects.values()) {
    const so = o.elf.dynamic?.soname ?? path.posix.basename(o.path);
    if (!bySoname.has(so)) bySoname.set(so, o.path);
  }
  const out: VersionProblem[] = [];
  for (const obj of objects.values()) {
    const own = searchDirs(obj);
    for (const need of obj.elf.dynamic?.versionNeeds ?? []) {
      const wanted = need.versions.filter((v) => !v.weak).map((v) => v.name);
      if (!wanted.length) continue;
      const runtimeFirst = opts.inProcess && C_RUNTIME_LIBRARY.test(need.file) && recordFor(runtime.symbolVersions ?? [], need.file);
      const hit = runtimeFirst ? undefined : (own.map((d) => `${d}/${need.file}`).find((c) => layer.has(c)) ?? layerLibs.get(need.file) ?? bySoname.get(need.file));
      if (hit) {
        const resolved = resolvePath(layer, hit, { treeIs: 'partial' });
        if (resolved.kind !== 'found') continue;
        const real = resolved.path;
        const defs = objects.get(real)?.elf.dynamic?.versionDefs ?? [];
        if (!defs.length) continue;
        for (const v of wanted) {
          if (defs.includes(v)) continue;
          const newest = newestVersion(defs, parseVersionName(v).prefix);
          out.push({ file: obj.path, library: need.file, version: v, provider: { layer: real }, ...(newest ? { newest } : {}) });
        }
        continue;
      }
      const record = recordFor(runtime.symbolVersions ?? [], need.file);
      if (!record) continue;
      for (const v of wanted) {
        if (!RUNTIME_VERSION.test(v) || recordedHas(record.versions, v, obj.elf.machine)) continue;
        const newest = newestVersion(record.versions, parseVersionName(v).prefix);
        out.push({ file: obj.path, library: need.file, version: v, provider: { runtime: runtime.id }, ...(newest ? { newest } : {}) });
      }
    }
  }
  return out.sort((a, b) => a.file.localeCompare(b.file) || a.library.localeCompare(b.library) || compareVersionNames(a.version, b.version));
}

/**
 * Files of the layer that are a C library (libc.so.6, the dynamic loader), by name or DT_SONAME:
 * a layer that is not self-contained cannot carry one. Its programs would still start on the
 * runtime's loader, which would then load two C libraries into one process.
 */
export function shippedCLibrary(layer: FileTree, objects: Map<string, ElfObject>): string[] {
  const found = new Set<string>();
  for (const e of layer.values()) if (e.kind === 'file' && C_LIBRARY.test(path.posix.basename(e.path))) found.add(e.path);
  for (const o of objects.values()) if (o.elf.dynamic?.soname && C_LIBRARY.test(o.elf.dynamic.soname)) found.add(o.path);
  return [...found].sort();
}

/**
 * The C and C++ runtime versions a set of library files define, as a runtime manifest records
 * them: one entry per soname, the GLIBC/GLIBCXX/CXXABI/GCC versions in their numeric order.
 */
export function runtimeSymbolVersions(libraries: Array<{ soname: string; defs: readonly string[] }>): SymbolVersions[] {
  const by = new Map<string, Set<string>>();
  for (const l of libraries) {
    const set = by.get(l.soname) ?? new Set<string>();
    for (const d of l.defs) if (RUNTIME_VERSION.test(d)) set.add(d);
    by.set(l.soname, set);
  }
  return [...by]
    .filter(([, v]) => v.size)
    .map(([soname, v]) => ({ soname, versions: [...v].sort(compareVersionNames) }))
    .sort((a, b) => (a.soname < b.soname ? -1 : a.soname > b.soname ? 1 : 0));
}

/** Version problems grouped as they are told: per library and where it comes from. */
export interface VersionGroup {
  library: string;
  provider: VersionProblem['provider'];
  /** The versions missing, newest first. */
  versions: string[];
  /** The files that need one of them, the first one needing the newest. */
  files: string[];
  newest?: string;
}

export function groupVersionProblems(problems: readonly VersionProblem[]): VersionGroup[] {
  const groups = new Map<string, VersionGroup>();
  for (const p of problems) {
    const key = `${p.library}\t${'layer' in p.provider ? p.provider.layer : ''}`;
    const g = groups.get(key) ?? { library: p.library, provider: p.provider, versions: [], files: [], ...(p.newest ? { newest: p.newest } : {}) };
    if (!g.versions.includes(p.version)) g.versions.push(p.version);
    groups.set(key, g);
  }
  for (const g of groups.values()) {
    g.versions.sort((a, b) => compareVersionNames(b, a));
    const needing = (v: string) => problems.filter((p) => p.library === g.library && p.version === v && sameProvider(p.provider, g.provider)).map((p) => p.file);
    g.files = [...new Set(g.versions.flatMap(needing))];
  }
  // the C library first (what decides the target), then the rest of the runtime's, then the layer's own
  const rank = (g: VersionGroup) => ('layer' in g.provider ? 2 : C_LIBRARY.test(g.library) ? 0 : 1);
  return [...groups.values()].sort((a, b) => rank(a) - rank(b) || (a.library < b.library ? -1 : a.library > b.library ? 1 : 0));
}

function sameProvider(a: VersionProblem['provider'], b: VersionProblem['provider']): boolean {
  return 'layer' in a ? 'layer' in b && a.layer === b.layer : 'runtime' in b;
}

/** `/opt/bin/pdftoppm and 40 more files need GLIBC_2.38 of libc.so.6, which the debian12 runtime's libc.so.6 lacks (its newest is GLIBC_2.36)`. */
export function versionGroupLine(g: VersionGroup): string {
  const who = g.files.length > 1 ? `${g.files[0]} and ${g.files.length - 1} more file${g.files.length > 2 ? 's' : ''} need` : `${g.files[0]} needs`;
  const older = g.versions.length > 1 ? ` (and ${g.versions.slice(1).join(', ')})` : '';
  const where = 'layer' in g.provider ? `the layer's ${g.provider.layer}` : `the ${g.provider.runtime} runtime's ${g.library}`;
  return `${who} ${g.versions[0]}${older} of ${g.library}, which ${where} lacks${g.newest ? ` (its newest is ${g.newest})` : ''}`;
}
