import { readContent, readHead, type Content, type TreeEntry } from '../tree/types.js';
import type { PathMap } from './paths.js';
import { isText, rewritePathsInText, TEXT_HEAD } from './text.js';

/** Text files larger than this are data, not configuration or scripts: left alone. */
const MAX_TEXT = 4 * 1024 * 1024;

export type TextKind = 'config' | 'pkgconfig' | 'libtool' | 'text';

export function textKind(originalPath: string): TextKind {
  if (originalPath.endsWith('.pc')) return 'pkgconfig';
  if (originalPath.endsWith('.la')) return 'libtool';
  if (originalPath.startsWith('/etc/')) return 'config';
  return 'text';
}

/**
 * pkg-config files spell library directories relative to a prefix
 * (`libdir=${prefix}/lib/x86_64-linux-gnu`); the layer has one library directory.
 */
export function foldPkgconfigLibdirs(text: string, triplet: string): string {
  return text.replace(new RegExp(`(\\$\\{(?:exec_)?prefix\\}/lib)(?:64|/${triplet.replace(/[.-]/g, '\\$&')})(?=[/\\s]|$)`, 'gm'), '$1');
}

export interface TextReport {
  rewritten: Array<{ file: string; from: string; to: string }>;
}

/**
 * Rewrites the paths in the layer's text files: config files, scripts (their shebangs too),
 * pkg-config and libtool files, and any other text that names a file the layer ships.
 * `origin` maps a layer path back to its original path.
 */
export function relocateTextFiles(
  layer: Map<string, TreeEntry>,
  origin: (layerPath: string) => string | undefined,
  paths: PathMap,
  triplet: string,
  save: (data: Buffer) => Content,
  alsoConfig: (originalPath: string) => boolean,
): TextReport {
  const report: TextReport = { rewritten: [] };
  for (const [p, e] of layer) {
    if (e.kind !== 'file' || e.size > MAX_TEXT || e.size === 0) continue;
    const from = origin(p);
    if (!from) continue;
    // most files of a layer are binaries, with a NUL in their first 8 KiB (isText's first test):
    // the head tells, without reading them whole
    if (readHead(e.content, TEXT_HEAD).includes(0)) continue;
    const buf = readContent(e.content);
    if (!isText(buf)) continue;
    let kind = textKind(from);
    if (kind === 'text' && alsoConfig(from)) kind = 'config';
    const original = buf.toString('utf8');
    let text = original;
    if (kind === 'pkgconfig') text = foldPkgconfigLibdirs(text, triplet);
    const map =
      kind === 'config'
        ? (x: string) => paths.configAddress(x)
        : kind === 'pkgconfig' || kind === 'libtool'
          ? (x: string) => paths.installAddress(x)
          : (x: string) => paths.shipped(x);
    const result = rewritePathsInText(text, map);
    if (result.text === original) continue;
    const data = Buffer.from(result.text);
    layer.set(p, { ...e, content: save(data), size: data.length });
    for (const r of result.rewrites) report.rewritten.push({ file: p, from: r.from, to: r.to });
  }
  return report;
}
