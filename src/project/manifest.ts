import { existsSync } from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import type { Node } from 'yaml';
import { parseArch, type Arch } from '../registry/arch.js';
import { loadTarget } from '../registry/load.js';
import type { Target } from '../registry/types.js';
import { parsePackageSpec, type PackageRequest } from '../resolve/backend.js';
import { isUpstreamRange } from '../resolve/constraints.js';
import type { KeepOptions } from '../relocate/placement.js';
import { checkRequest } from '../resolve/names.js';
import { UserError, isUserError } from '../util/errors.js';
import { readInputText } from '../util/input.js';
import { validateDocument } from '../util/schema.js';

/** An architecture as a manifest may name it: Lambda's name, or Debian's and rpm's, as on the command line. */
export type ManifestArch = 'x86_64' | 'arm64' | 'amd64' | 'aarch64';

/** yumda.json / yumda.yaml as written (schema/manifest.schema.json). */
export interface ProjectDocument {
  layers: Array<{
    name: string;
    target: string;
    arch?: ManifestArch | ManifestArch[];
    packages: Array<string | { name: string; version?: string; upstream?: string }>;
    recipes?: string[];
    repos?: string[];
    defaultRepos?: boolean;
    buildImage?: string;
    runtimeManifest?: string;
    keep?: { docs?: boolean; locales?: boolean; headers?: boolean; static?: boolean; unusable?: string[] };
    outputs?: { zip?: string; dir?: string };
    allowMissing?: boolean;
    pack?: boolean;
    from?: string;
    scripts?: boolean;
  }>;
}

/** One layer of the manifest for one architecture: what `yumda build` builds. */
export interface LayerJob {
  name: string;
  target: string;
  arch: Arch;
  packages: PackageRequest[];
  recipeDirs: string[];
  repos: string[];
  /** False: only `repos`, not the target's own repositories. */
  defaultRepos: boolean;
  buildImage?: string;
  /** Absolute path of a runtime manifest to use instead of the target's. */
  runtimeManifest?: string;
  keep: KeepOptions;
  /** Groups of what cannot work on Lambda to keep after all (registry/unusable-on-lambda.json ids, or `all`). */
  keepUnusable: string[];
  /** Absolute paths. A zip unless only a directory is asked for. */
  outputs: { zip?: string; dir?: string };
  /** Write the layer even when the closure check finds a library missing. */
  allowMissing: boolean;
  /** A packed layer: one archive unpacked into /tmp on first use. */
  pack: boolean;
  /** A self-contained layer from this target's distribution. */
  from?: string;
  /** Run the packages' maintainer scripts and ship what they generate (false: --no-scripts). */
  scripts: boolean;
}

export interface Project {
  file: string;
  dir: string;
  jobs: LayerJob[];
}

/**
 * The yaml library, loaded for a YAML manifest only: loading it cost every run of yumda tens of
 * milliseconds (issue 24). require(), because parsing stays synchronous.
 */
let yamlModule: typeof import('yaml') | undefined;
const yaml = () => (yamlModule ??= createRequire(import.meta.url)('yaml') as typeof import('yaml'));

export const MANIFEST_NAMES = ['yumda.json', 'yumda.yaml', 'yumda.yml'];
export const DEFAULT_ZIP_OUTPUT = 'dist/{name}-{arch}.zip';

/** The manifest in `dir` (yumda.json, yumda.yaml or yumda.yml); exactly one may exist. */
export function findManifest(dir: string): string {
  const found = MANIFEST_NAMES.map((n) => path.join(dir, n)).filter((f) => existsSync(f));
  if (found.length === 0) throw new UserError(`no ${MANIFEST_NAMES.join(', ')} in ${dir}`, { hint: 'write one (see the README), or pass --manifest FILE' });
  if (found.length > 1) throw new UserError(`both ${found.map((f) => path.basename(f)).join(' and ')} in ${dir}: keep one`);
  return found[0]!;
}

/**
 * Parses a manifest's text. YAML (a superset of JSON) for .yaml/.yml, JSON for .json; both are
 * validated by one schema, and a YAML error or schema error names the file, line and field.
 */
export function parseManifestText(text: string, file: string): ProjectDocument {
  const label = path.basename(file);
  if (/\.ya?ml$/i.test(file)) {
    const { isMap, isSeq, LineCounter, parseDocument } = yaml();
    const lines = new LineCounter();
    const doc = parseDocument(text, { lineCounter: lines, prettyErrors: true, uniqueKeys: true });
    const bad = doc.errors[0];
    if (bad) {
      const pos = bad.linePos?.[0];
      throw new UserError(`${label}${pos ? `:${pos.line}:${pos.col}` : ''}: not valid YAML (${bad.message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '')})`);
    }
    const locate = (pointer: string): string | undefined => {
      const keys = pointer
        .split('/')
        .slice(1)
        .map((k) => k.replace(/~1/g, '/').replace(/~0/g, '~'));
      let node: unknown = doc.contents;
      let last: Node | undefined = doc.contents ?? undefined;
      for (const k of keys) {
        if (isMap(node)) node = node.get(k, true);
        else if (isSeq(node)) node = node.get(Number(k), true);
        else break;
        if (node) last = node as Node;
      }
      const offset = last?.range?.[0];
      if (offset === undefined) return undefined;
      const { line, col } = lines.linePos(offset);
      return `:${line}:${col}`;
    };
    let value: unknown;
    try {
      // the yaml library refuses alias bombs (billion laughs) here, with its default alias budget
      value = doc.toJS({ maxAliasCount: 100 });
    } catch (e) {
      throw new UserError(`${label}: not a manifest yumda reads (${(e as Error).message.split('\n')[0]})`);
    }
    return validateDocument<ProjectDocument>('manifest', value, label, locate);
  }
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    throw new UserError(`${label}: not valid JSON (${(e as Error).message})`);
  }
  return validateDocument<ProjectDocument>('manifest', doc, label);
}

function packageRequest(item: ProjectDocument['layers'][number]['packages'][number], where: string): PackageRequest {
  if (typeof item === 'string') {
    const r = parsePackageSpec(item);
    if (!r) throw new UserError(`${where}: '${item}' is not a package (expected NAME or NAME=VERSION, or {name, upstream: RANGE})`);
    return r;
  }
  if (item.version && item.upstream) throw new UserError(`${where}: give either 'version' (exact) or 'upstream' (a range), not both`);
  if (item.upstream && !isUpstreamRange(item.upstream)) {
    throw new UserError(`${where}.upstream: '${item.upstream}' is not a semver range (expected e.g. ^22.12, ~1.6, >=1.6 <2)`);
  }
  return { name: item.name, ...(item.version ? { version: item.version } : {}), ...(item.upstream ? { upstream: item.upstream } : {}) };
}

function expand(pattern: string, vars: { name: string; target: string; arch: string }): string {
  return pattern.replace(/\{(name|target|arch)\}/g, (_, k: 'name' | 'target' | 'arch') => vars[k]);
}

function checkedTarget(id: string, where: string): Target {
  try {
    return loadTarget(id);
  } catch (e) {
    if (isUserError(e)) throw new UserError(`${where}: ${e.message}`, { hint: e.hint });
    throw e;
  }
}

/** Checks what the schema cannot (targets, architectures, duplicates) and expands architectures into jobs. */
export function manifestJobs(doc: ProjectDocument, file: string): LayerJob[] {
  const label = path.basename(file);
  const dir = path.dirname(path.resolve(file));
  const seen = new Set<string>();
  const jobs: LayerJob[] = [];
  const outputs = new Map<string, string>();
  doc.layers.forEach((layer, i) => {
    const at = `${label}: field 'layers.${i}`;
    if (seen.has(layer.name)) throw new UserError(`${at}.name': layer name '${layer.name}' is used twice`);
    seen.add(layer.name);
    const target = checkedTarget(layer.target, `${at}.target'`);
    // the packages are named as the distribution they come from names them (`from`, else the target's)
    const source = layer.from ? checkedTarget(layer.from, `${at}.from'`) : target;
    const named = layer.arch === undefined ? ['x86_64' as const] : Array.isArray(layer.arch) ? layer.arch : [layer.arch];
    // amd64 is x86_64 and aarch64 is arm64: the layer is built under Lambda's name
    const arches: Array<Arch['lambda']> = [];
    for (const [j, n] of named.entries()) {
      const a = parseArch(n).lambda;
      if (arches.includes(a)) throw new UserError(`${at}.arch${Array.isArray(layer.arch) ? `.${j}` : ''}': ${n} is ${a}, which the list already has`);
      arches.push(a);
    }
    const packages = layer.packages.map((p, j) => packageRequest(p, `${at}.packages.${j}'`));
    const names = new Set<string>();
    for (const [j, p] of packages.entries()) {
      checkRequest(source.family, p, `${at}.packages.${j}'`);
      if (names.has(p.name)) throw new UserError(`${at}.packages.${j}': package '${p.name}' is listed twice`);
      names.add(p.name);
    }
    if (layer.defaultRepos === false && !layer.repos?.length) {
      throw new UserError(`${at}.defaultRepos': false leaves the layer no repository: list the ones to use in 'repos'`);
    }
    const runtimeManifest = layer.runtimeManifest ? path.resolve(dir, layer.runtimeManifest) : undefined;
    if (runtimeManifest && !existsSync(runtimeManifest)) {
      throw new UserError(`${at}.runtimeManifest': ${path.relative(dir, runtimeManifest)} does not exist (the path is relative to ${label})`, {
        hint: 'write one with `yumda runtime refresh IMAGE --out FILE`',
      });
    }
    for (const a of arches) {
      if (!target.architectures.includes(a)) {
        throw new UserError(`${at}.arch': target ${target.id} has no ${a} build (its architectures: ${target.architectures.join(', ')})`);
      }
      const vars = { name: layer.name, target: target.id, arch: a };
      const zip = layer.outputs?.zip ?? (layer.outputs?.dir ? undefined : DEFAULT_ZIP_OUTPUT);
      const out = {
        ...(zip ? { zip: path.resolve(dir, expand(zip, vars)) } : {}),
        ...(layer.outputs?.dir ? { dir: path.resolve(dir, expand(layer.outputs.dir, vars)) } : {}),
      };
      for (const o of Object.values(out)) {
        const other = outputs.get(o);
        if (other) throw new UserError(`${at}.outputs': ${path.relative(dir, o)} is also the output of ${other}; use {arch} or {name} in the path`);
        outputs.set(o, `${layer.name} (${a})`);
      }
      jobs.push({
        name: layer.name,
        target: target.id,
        arch: parseArch(a),
        packages,
        recipeDirs: (layer.recipes ?? []).map((r) => path.resolve(dir, r)),
        repos: layer.repos ?? [],
        defaultRepos: layer.defaultRepos !== false,
        ...(layer.buildImage ? { buildImage: layer.buildImage } : {}),
        ...(runtimeManifest ? { runtimeManifest } : {}),
        keep: { docs: !!layer.keep?.docs, locales: !!layer.keep?.locales, headers: !!layer.keep?.headers, staticLibs: !!layer.keep?.static },
        keepUnusable: layer.keep?.unusable ?? [],
        outputs: out,
        allowMissing: !!layer.allowMissing,
        pack: !!layer.pack,
        scripts: layer.scripts !== false,
        ...(layer.from ? { from: source.id } : {}),
      });
    }
  });
  return jobs;
}

export function loadProject(file: string): Project {
  const doc = parseManifestText(readInputText(file, 'a yumda manifest'), file);
  return { file: path.resolve(file), dir: path.dirname(path.resolve(file)), jobs: manifestJobs(doc, file) };
}
