import { formatBytes } from '../util/format.js';
import type { LayerEntry } from '../layer/entries.js';
import type { OpenedLayer } from '../layer/open.js';
import { printable } from '../util/printable.js';
import { LAYER_ROOT } from '../format/lambda.js';

export interface PackageChange {
  name: string;
  from?: { version: string; bytes: number };
  to?: { version: string; bytes: number };
}

export interface FileChange {
  path: string;
  /** What differs: content, mode, kind (file/symlink/dir) or symlink target. */
  what: Array<'content' | 'mode' | 'kind' | 'target'>;
  fromBytes: number;
  toBytes: number;
}

export interface LayerDiff {
  from: { file: string; unzippedBytes: number; archiveBytes: number; target?: string; arch?: string };
  to: { file: string; unzippedBytes: number; archiveBytes: number; target?: string; arch?: string };
  packages: { added: PackageChange[]; removed: PackageChange[]; changed: PackageChange[] };
  files: { added: LayerEntry[]; removed: LayerEntry[]; changed: FileChange[]; unchanged: number };
}

const unzipped = (l: OpenedLayer) => l.entries.reduce((n, e) => n + (e.kind === 'file' ? e.size : 0), 0);

function side(l: OpenedLayer): LayerDiff['from'] {
  return { file: l.file, unzippedBytes: unzipped(l), archiveBytes: l.archiveBytes, ...(l.manifest ? { target: l.manifest.target, arch: l.manifest.arch } : {}) };
}

/** What changed from layer `a` to layer `b`: packages (from their manifests) and files. Pure. */
export function diffLayers(a: OpenedLayer, b: OpenedLayer): LayerDiff {
  const pa = new Map((a.manifest?.packages ?? []).map((p) => [p.name, p]));
  const pb = new Map((b.manifest?.packages ?? []).map((p) => [p.name, p]));
  const packages: LayerDiff['packages'] = { added: [], removed: [], changed: [] };
  for (const [name, p] of pb) {
    const old = pa.get(name);
    if (!old) packages.added.push({ name, to: { version: p.version, bytes: p.bytes } });
    else if (old.version !== p.version || old.bytes !== p.bytes)
      packages.changed.push({ name, from: { version: old.version, bytes: old.bytes }, to: { version: p.version, bytes: p.bytes } });
  }
  for (const [name, p] of pa) if (!pb.has(name)) packages.removed.push({ name, from: { version: p.version, bytes: p.bytes } });

  const ea = new Map(a.entries.map((e) => [e.path, e]));
  const eb = new Map(b.entries.map((e) => [e.path, e]));
  const files: LayerDiff['files'] = { added: [], removed: [], changed: [], unchanged: 0 };
  for (const [p, e] of eb) {
    const old = ea.get(p);
    if (!old) {
      files.added.push(e);
      continue;
    }
    const what: FileChange['what'] = [];
    if (old.kind !== e.kind) what.push('kind');
    else if (e.kind === 'file' && (old.sha256 !== e.sha256 || old.size !== e.size)) what.push('content');
    else if (e.kind === 'symlink' && old.target !== e.target) what.push('target');
    if (old.kind === e.kind && e.kind !== 'symlink' && old.mode !== e.mode) what.push('mode');
    if (what.length) files.changed.push({ path: p, what, fromBytes: old.size, toBytes: e.size });
    else files.unchanged++;
  }
  for (const [p, e] of ea) if (!eb.has(p)) files.removed.push(e);
  const byName = (x: { name: string }, y: { name: string }) => x.name.localeCompare(y.name);
  const byPath = (x: { path: string }, y: { path: string }) => (x.path < y.path ? -1 : x.path > y.path ? 1 : 0);
  packages.added.sort(byName);
  packages.removed.sort(byName);
  packages.changed.sort(byName);
  files.added.sort(byPath);
  files.removed.sort(byPath);
  files.changed.sort(byPath);
  return { from: side(a), to: side(b), packages, files };
}

export function isEmptyDiff(d: LayerDiff): boolean {
  return !d.packages.added.length && !d.packages.removed.length && !d.packages.changed.length && !d.files.added.length && !d.files.removed.length && !d.files.changed.length;
}

function signed(n: number): string {
  return `${n >= 0 ? '+' : '-'}${formatBytes(Math.abs(n))}`;
}

const relName = (p: string) => p.slice(LAYER_ROOT.length + 1);

/** The diff as text. Every line is passed through `printable`: names, targets, packages and versions come from the layers. */
export function formatDiff(d: LayerDiff, top: number): string {
  return formatLines(d, top).map(printable).join('\n');
}

function formatLines(d: LayerDiff, top: number): string[] {
  const out: string[] = [];
  out.push(`${d.from.file} -> ${d.to.file}`);
  if (d.from.target !== d.to.target || d.from.arch !== d.to.arch) out.push(`  target: ${d.from.target ?? '?'} ${d.from.arch ?? '?'} -> ${d.to.target ?? '?'} ${d.to.arch ?? '?'}`);
  out.push(`  unzipped ${formatBytes(d.from.unzippedBytes)} -> ${formatBytes(d.to.unzippedBytes)} (${signed(d.to.unzippedBytes - d.from.unzippedBytes)})`);
  out.push(`  archive  ${formatBytes(d.from.archiveBytes)} -> ${formatBytes(d.to.archiveBytes)} (${signed(d.to.archiveBytes - d.from.archiveBytes)})`);
  if (isEmptyDiff(d)) {
    out.push('  no differences in packages or files');
    return out;
  }
  const p = d.packages;
  if (p.added.length + p.removed.length + p.changed.length) {
    out.push('', 'Packages:');
    for (const c of p.added) out.push(`  + ${c.name} ${c.to!.version} (${formatBytes(c.to!.bytes)})`);
    for (const c of p.removed) out.push(`  - ${c.name} ${c.from!.version} (${formatBytes(c.from!.bytes)})`);
    for (const c of p.changed) {
      out.push(`  ~ ${c.name} ${c.from!.version === c.to!.version ? c.to!.version : `${c.from!.version} -> ${c.to!.version}`} (${signed(c.to!.bytes - c.from!.bytes)})`);
    }
  }
  const f = d.files;
  out.push('', `Files: ${f.added.length} added, ${f.removed.length} removed, ${f.changed.length} changed, ${f.unchanged} the same`);
  const list = <T>(items: T[], line: (x: T) => string) => {
    for (const x of items.slice(0, top)) out.push(line(x));
    if (items.length > top) out.push(`    … and ${items.length - top} more (--all lists everything)`);
  };
  const show = (e: LayerEntry) => `${relName(e.path)}${e.kind === 'dir' ? '/' : e.kind === 'symlink' ? ` -> ${e.target}` : ` (${formatBytes(e.size)})`}`;
  list(f.added, (e) => `  + ${show(e)}`);
  list(f.removed, (e) => `  - ${show(e)}`);
  list(f.changed, (c) => `  ~ ${relName(c.path)} (${c.what.join(', ')}${c.what.includes('content') ? `, ${signed(c.toBytes - c.fromBytes)}` : ''})`);
  return out;
}
