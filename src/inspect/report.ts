import path from 'node:path';
import { formatBytes } from '../util/format.js';
import { danglingSymlinks, type LayerEntry } from '../layer/entries.js';
import { specialModes, specialModesLine, type SpecialMode } from '../layer/modes.js';
import type { OpenedLayer } from '../layer/open.js';
import { MANIFEST_PATH, SBOM_PATH, type PackedManifest, type SelfContainedManifest, type UnusableLeftOut } from '../format/layer-manifest.js';
import { unusableLine } from '../format/unusable.js';
import { packedLines } from '../format/packed.js';
import { selfContainedLines } from '../format/self-contained.js';
import { printable } from '../util/printable.js';
import { plural } from '../util/plural.js';
import { LAMBDA_DIRECT_UPLOAD_LIMIT, LAMBDA_IMAGE_LIMIT, LAMBDA_UNZIPPED_LIMIT, LAYER_ROOT, META_DIR } from '../format/lambda.js';

export interface SizeRow {
  name: string;
  version?: string;
  files?: number;
  bytes: number;
}

export interface InspectReport {
  file: string;
  format: OpenedLayer['format'];
  /** Size of the zip or image tarball on disk. */
  archiveBytes: number;
  layer?: { target: string; arch: string; runtime: string; requested: string[]; tool: string; recipes: string[] };
  counts: { files: number; symlinks: number; dirs: number; executables: number };
  /** What Lambda counts against its unzipped limit: the bytes of the files. */
  unzippedBytes: number;
  limits: Array<{ name: string; label: string; limit: number; bytes: number; fraction: number; over: boolean }>;
  /**
   * Sizes by package from the layer's manifest. Rows add up to the unzipped size: packages,
   * yumda's generated files, the manifest itself, and whatever the manifest does not account
   * for (non-zero only when the layer was changed after yumda wrote it).
   */
  bySource: { from: 'manifest' | 'directory' | 'packed'; rows: SizeRow[]; total: number; unaccounted: number };
  /** A packed layer (`--pack`): its archive, and what it takes once unpacked (from the layer's manifest). */
  packed?: PackedManifest;
  /** A self-contained layer (`--from`): the C library it carries (from the layer's manifest). */
  selfContained?: SelfContainedManifest;
  largest: Array<{ path: string; bytes: number }>;
  symlinks: Array<{ path: string; target: string; dangling: boolean }>;
  /** Executable files; a wrapper yumda wrote lists the program it runs, which is not listed again. */
  executables: Array<{ path: string; bytes: number; wraps?: { path: string; bytes: number } }>;
  /** Entries with setuid, setgid or sticky bits: useless on Lambda, dangerous unpacked as root. */
  specialModes: SpecialMode[];
  /** Modules the build left out because a library they need is nowhere (from the layer's manifest). */
  leftOut: Array<{ file: string; soname: string; version?: string; package?: string }>;
  /** What cannot work on Lambda, left out at build time, by group. */
  unusable: UnusableLeftOut[];
  /** Bare directories compiled into binaries that the build moved to the layer (from the layer's manifest). */
  rewrittenDirectories: Array<{ file: string; from: string; to: string; because: string }>;
}

const byBytes = (a: { bytes: number; name?: string; path?: string }, b: { bytes: number; name?: string; path?: string }) =>
  b.bytes - a.bytes || (a.name ?? a.path ?? '').localeCompare(b.name ?? b.path ?? '');

/** The report `yumda inspect` prints, from a read layer. Pure. */
export function inspectLayer(layer: OpenedLayer): InspectReport {
  const files = layer.entries.filter((e) => e.kind === 'file');
  const unzippedBytes = files.reduce((n, e) => n + e.size, 0);
  const byPath = new Map(layer.entries.map((e) => [e.path, e]));
  const dangling = new Set(danglingSymlinks(layer.entries).map((e) => e.path));
  // a wrapper (bin/pdftoppm) and the program it runs (bin/.pdftoppm.real) are one program
  const reals = new Set<string>();
  // yumda's own files (the exec wrapper) are not the layer's programs
  const executables = files
    .filter((e) => (e.mode & 0o111) !== 0 && !e.path.startsWith(`${META_DIR}/`))
    .map((e) => {
      const real = byPath.get(path.posix.join(path.posix.dirname(e.path), `.${path.posix.basename(e.path)}.real`));
      if (real?.kind !== 'file') return { path: e.path, bytes: e.size };
      reals.add(real.path);
      return { path: e.path, bytes: e.size, wraps: { path: real.path, bytes: real.size } };
    })
    .filter((e) => !reals.has(e.path));
  const limits: InspectReport['limits'] = [];
  const limit = (label: string, name: string, lim: number, bytes: number) => limits.push({ name, label, limit: lim, bytes, fraction: bytes / lim, over: bytes > lim });
  if (layer.format === 'zip') {
    limit('50 MB', 'for a direct upload, zipped (larger zips go through S3)', LAMBDA_DIRECT_UPLOAD_LIMIT, layer.archiveBytes);
    limit('250 MB', 'for the function and all its layers, unzipped', LAMBDA_UNZIPPED_LIMIT, unzippedBytes);
  } else {
    limit('250 MB', 'for the function and all its layers, unzipped, if shipped as a layer zip', LAMBDA_UNZIPPED_LIMIT, unzippedBytes);
    limit('10 GB', 'for a container image, all of it', LAMBDA_IMAGE_LIMIT, unzippedBytes);
  }

  return {
    file: layer.file,
    format: layer.format,
    archiveBytes: layer.archiveBytes,
    ...(layer.manifest
      ? {
          layer: {
            target: layer.manifest.target,
            arch: layer.manifest.arch,
            runtime: layer.manifest.runtime,
            requested: layer.manifest.requested,
            tool: `${layer.manifest.tool?.name ?? 'yumda'} ${layer.manifest.tool?.version ?? ''}`.trim(),
            recipes: layer.manifest.recipes ?? [],
          },
        }
      : {}),
    counts: {
      files: files.length,
      symlinks: layer.entries.filter((e) => e.kind === 'symlink').length,
      dirs: layer.entries.filter((e) => e.kind === 'dir').length,
      executables: executables.length,
    },
    unzippedBytes,
    limits,
    bySource: layer.manifest ? sizesFromManifest(layer, unzippedBytes) : sizesByDirectory(files, unzippedBytes),
    largest: files.map((e) => ({ path: e.path, bytes: e.size })).sort(byBytes),
    symlinks: layer.entries.filter((e) => e.kind === 'symlink').map((e) => ({ path: e.path, target: e.target ?? '', dangling: dangling.has(e.path) })),
    executables,
    specialModes: specialModes(layer.entries),
    leftOut: layer.manifest?.leftOut ?? [],
    unusable: layer.manifest?.unusable ?? [],
    rewrittenDirectories: layer.manifest?.rewrittenDirectories ?? [],
    ...(layer.manifest?.packed ? { packed: layer.manifest.packed } : {}),
    ...(layer.manifest?.selfContained ? { selfContained: layer.manifest.selfContained } : {}),
  };
}

function sizesFromManifest(layer: OpenedLayer, total: number): InspectReport['bySource'] {
  const m = layer.manifest!;
  if (m.packed) {
    // the packages' files are in the archive: their sizes are what they take in /tmp
    const rows: SizeRow[] = m.packages.map((p) => ({ name: p.name, version: p.version, files: p.files, bytes: p.bytes })).sort(byBytes);
    return { from: 'packed', rows, total: rows.reduce((n, r) => n + r.bytes, 0), unaccounted: 0 };
  }
  const rows: SizeRow[] = m.packages.map((p) => ({ name: p.name, version: p.version, files: p.files, bytes: p.bytes })).sort(byBytes);
  rows.push({ name: 'generated by yumda, from no package', bytes: m.generatedBytes ?? 0 });
  rows.push({ name: MANIFEST_PATH, files: 1, bytes: layer.manifestBytes });
  // the SBOM is written after the manifest, so the manifest cannot count it
  const sbom = layer.entries.find((e) => e.path === SBOM_PATH && e.kind === 'file');
  if (sbom) rows.push({ name: SBOM_PATH, files: 1, bytes: sbom.size });
  const sum = rows.reduce((n, r) => n + r.bytes, 0);
  return { from: 'manifest', rows, total: sum, unaccounted: total - sum };
}

/** Without a yumda manifest, the next best thing: sizes by top-level directory. */
function sizesByDirectory(files: LayerEntry[], total: number): InspectReport['bySource'] {
  const dirs = new Map<string, SizeRow>();
  for (const e of files) {
    const top = e.path.slice(LAYER_ROOT.length + 1).split('/')[0]!;
    const key = e.path.slice(LAYER_ROOT.length + 1).includes('/') ? `${LAYER_ROOT}/${top}/` : `${LAYER_ROOT}/ (files at the top)`;
    const r = dirs.get(key) ?? { name: key, files: 0, bytes: 0 };
    r.files! += 1;
    r.bytes += e.size;
    dirs.set(key, r);
  }
  const rows = [...dirs.values()].sort(byBytes);
  return { from: 'directory', rows, total, unaccounted: 0 };
}

function pct(f: number): string {
  return `${(f * 100).toFixed(1)}%`;
}

function table(rows: string[][], rightAligned: number[]): string[] {
  if (rows.length === 0) return ['  (none)'];
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  return rows.map(
    (r) =>
      '  ' +
      r
        .map((c, i) => (rightAligned.includes(i) ? c.padStart(widths[i]!) : c.padEnd(widths[i]!)))
        .join('  ')
        .trimEnd(),
  );
}

/** Names, targets and manifest fields come from the layer: printed with control characters escaped. */
const relName = (p: string) => printable(p.slice(LAYER_ROOT.length + 1));

/** The report as text; lists are cut to `top` lines (all when `top` is Infinity). */
export function formatInspect(r: InspectReport, top: number): string {
  const out: string[] = [];
  const what = r.format === 'zip' ? 'layer zip' : `${r.format} image tarball`;
  const file = printable(r.file);
  const l = r.layer;
  out.push(
    l
      ? printable(`${r.file}: ${what} made by ${l.tool}: ${l.requested.join(' ')} for ${l.target} ${l.arch} (runtime ${l.runtime})`)
      : `${file}: ${what} (no yumda manifest: not made by yumda, or made by another tool)`,
  );
  out.push(`  ${plural(r.counts.files, 'file')}, ${plural(r.counts.symlinks, 'symlink')}, ${plural(r.counts.dirs, 'directory')}; ${plural(r.counts.executables, 'program')}`);
  out.push(`  ${r.format === 'zip' ? 'zipped' : 'tarball'}   ${formatBytes(r.archiveBytes).padStart(10)}`);
  out.push(`  unzipped ${formatBytes(r.unzippedBytes).padStart(10)}`);
  for (const lim of r.limits) {
    out.push(`  ${lim.over ? 'OVER' : 'ok  '} ${pct(lim.fraction).padStart(6)} of Lambda's ${lim.label} limit ${lim.name}`);
  }
  if (r.selfContained) for (const line of selfContainedLines(r.selfContained, l?.runtime ?? 'target')) out.push(`  ${printable(line)}`);
  if (r.packed) {
    for (const line of packedLines(r.packed)) out.push(`  ${printable(line)}`);
    out.push("  the first call's unpack time: `yumda verify` runs the layer as Lambda does and times it");
  }
  if (r.specialModes.length) out.push(`  ${specialModesLine(r.specialModes)}`);
  for (const u of r.unusable) out.push(`  ${unusableLine(u)}`);
  if (r.leftOut.length) {
    out.push(`  left out at build time, ${plural(r.leftOut.length, 'module')} a library of which is nowhere (nothing links to them):`);
    for (const m of r.leftOut)
      out.push(
        `    ${printable(m.file.replace(/^\/opt\//, ''))} needs ${m.version ? `${printable(m.version)} of ` : ''}${printable(m.soname)}${m.package ? ` (package ${printable(m.package)} has it)` : ''}`,
      );
  }

  const heading = {
    manifest: `Size by package (from ${MANIFEST_PATH}):`,
    packed: `Size by package in the packed tree, unpacked (from ${MANIFEST_PATH}):`,
    directory: 'Size by directory:',
  };
  out.push('', heading[r.bySource.from]);
  const rows: string[][] = [r.bySource.from === 'directory' ? ['DIRECTORY', '', 'FILES', 'SIZE', 'BYTES'] : ['PACKAGE', 'VERSION', 'FILES', 'SIZE', 'BYTES']];
  for (const row of r.bySource.rows)
    rows.push([printable(row.name), printable(row.version ?? ''), row.files === undefined ? '' : String(row.files), formatBytes(row.bytes), String(row.bytes)]);
  if (r.bySource.unaccounted !== 0)
    rows.push(['not accounted for by the manifest (changed after yumda wrote it)', '', '', formatBytes(r.bySource.unaccounted), String(r.bySource.unaccounted)]);
  rows.push(['total', '', '', formatBytes(r.bySource.total + r.bySource.unaccounted), String(r.bySource.total + r.bySource.unaccounted)]);
  out.push(...table(rows, [2, 3, 4]));
  out.push(
    r.bySource.from === 'packed'
      ? `  the packages' files, unpacked; the layer itself is the archive, the unpack tools and the launchers (${r.unzippedBytes} bytes)`
      : r.bySource.unaccounted === 0
        ? `  the rows add up to the unzipped size (${r.unzippedBytes} bytes)`
        : `  the manifest accounts for ${r.bySource.total} of ${r.unzippedBytes} bytes`,
  );

  const cut = <T>(list: T[]): { shown: T[]; more: number } => ({ shown: list.slice(0, top), more: Math.max(0, list.length - top) });
  const more = (n: number) => (n > 0 ? [`  … and ${n} more (--all lists everything)`] : []);

  const largest = cut(r.largest);
  out.push('', `Largest files:`);
  out.push(
    ...table(
      largest.shown.map((f) => [formatBytes(f.bytes), relName(f.path)]),
      [0],
    ),
    ...more(largest.more),
  );

  const exes = cut(r.executables);
  const wrapped = r.executables.filter((e) => e.wraps).length;
  out.push('', `Executables (${r.executables.length}${wrapped ? `, ${wrapped} of them wrappers that set the environment` : ''}):`);
  out.push(
    ...table(
      exes.shown.map((e) => [relName(e.path), formatBytes(e.bytes), e.wraps ? `wrapper; runs ${relName(e.wraps.path)} (${formatBytes(e.wraps.bytes)})` : '']),
      [1],
    ),
    ...more(exes.more),
  );

  if (r.rewrittenDirectories.length) {
    const dirs = cut(r.rewrittenDirectories);
    out.push('', `Compiled-in directories moved to the layer (${r.rewrittenDirectories.length}, in binaries that name what the layer ships there):`);
    out.push(...dirs.shown.map((d) => `  ${relName(d.file)}: ${printable(d.from)} -> ${printable(d.to)} (${printable(d.because)})`), ...more(dirs.more));
  }

  const dangling = r.symlinks.filter((s) => s.dangling);
  const links = cut([...dangling, ...r.symlinks.filter((s) => !s.dangling)]);
  out.push('', `Symlinks (${r.symlinks.length}, ${dangling.length ? `${dangling.length} dangling` : 'all resolve inside the layer'}):`);
  out.push(...links.shown.map((s) => `  ${relName(s.path)} -> ${printable(s.target)}${s.dangling ? '   (dangling: nothing there in the layer)' : ''}`), ...more(links.more));
  return out.join('\n');
}
