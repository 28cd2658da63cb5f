import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { ImageIdentity } from '../docker/images.js';
import { loadRuntimeFile, loadTarget, runtimeFile } from '../registry/load.js';
import { repositoryLocation } from '../registry/repositories.js';
import type { PackageFamily, Repository } from '../registry/types.js';
import { checkLocked, checkRequest } from '../resolve/names.js';
import type { PackageRequest, VersionPin } from '../resolve/backend.js';
import type { Plan } from '../resolve/plan.js';
import { writeAtomically } from '../util/atomic.js';
import { outputRule, type OutputTarget } from '../emit/outputs.js';
import { UserError } from '../util/errors.js';
import { sha256 } from '../util/hash.js';
import { readInputFile, readInputText } from '../util/input.js';
import { validateDocument } from '../util/schema.js';
import type { LayerJob } from './manifest.js';
import { plural } from '../util/plural.js';

export const LOCK_NAME = 'yumda.lock';

export interface LockedPackage {
  name: string;
  version: string;
  arch: string;
  sourcePackage?: string;
  /** SHA-256 of the package file, from the repository metadata. */
  sha256?: string;
}

/**
 * The runtime manifest a layer was resolved against. What the runtime has is left out of the
 * plan, so a changed manifest can change the plan: the lock keeps its digest.
 */
export interface LockedRuntime {
  id: string;
  /** The layer's own runtime manifest (`runtimeManifest`), relative to the project manifest; absent for the target's. */
  manifest?: string;
  /** SHA-256 of the runtime manifest file. */
  sha256: string;
}

/** How one layer of the manifest, for one architecture, resolved. */
export interface LockedLayer {
  name: string;
  arch: 'x86_64' | 'arm64';
  target: string;
  /** The manifest's package requests the entry was resolved from: an edit to them makes it stale. */
  requested: PackageRequest[];
  /** Each repository's URL (or, for one a release package configures, what configures it). */
  repositories: Array<{ url: string; suites?: string[]; components?: string[] }>;
  /** Absent in locks written before runtime manifests were recorded. */
  runtime?: LockedRuntime;
  buildImage: { ref: string; id: string; repoDigests?: string[] };
  packages: LockedPackage[];
}

export interface LockFile {
  lockfileVersion: 1;
  layers: LockedLayer[];
}

export function lockPathFor(manifestFile: string): string {
  return path.join(path.dirname(manifestFile), LOCK_NAME);
}

export function readLock(file: string): LockFile | undefined {
  if (!existsSync(file)) return undefined;
  const text = readInputText(file, 'a yumda lock');
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    throw new UserError(`${path.basename(file)}: not valid JSON (${(e as Error).message})`, { hint: 'regenerate it with `yumda update`' });
  }
  const lock = validateDocument<LockFile>('lock', doc, path.basename(file));
  // what a lock says reaches the package manager's configuration (apt's preferences): only names and versions may
  lock.layers.forEach((l, i) => {
    const at = `${path.basename(file)}: field 'layers.${i}`;
    let family: PackageFamily;
    try {
      family = loadTarget(l.target).family;
    } catch (e) {
      if (e instanceof UserError) throw new UserError(`${at}.target': ${e.message}`, { hint: 'regenerate it with `yumda update`' });
      throw e;
    }
    for (const [j, r] of l.requested.entries()) checkRequest(family, r, `${at}.requested.${j}'`);
    for (const [j, p] of l.packages.entries()) checkLocked(family, p, `${at}.packages.${j}'`);
  });
  return lock;
}

/** The lock as text: entries sorted by layer name and architecture, so equal locks are equal bytes. */
export function formatLock(lock: LockFile): string {
  const layers = [...lock.layers].sort((a, b) => (a.name === b.name ? a.arch.localeCompare(b.arch) : a.name < b.name ? -1 : 1));
  return JSON.stringify({ lockfileVersion: 1, layers }, null, 2) + '\n';
}

/** The lock beside a manifest, as an output: it replaces only a lock yumda wrote. */
export function lockTarget(file: string): OutputTarget {
  return { path: file, kind: 'lock', what: path.basename(file) };
}

export async function writeLock(file: string, text: string): Promise<void> {
  await writeAtomically(file, async (tmp) => writeFileSync(tmp, text), outputRule(lockTarget(file)));
}

export function findLocked(lock: LockFile | undefined, name: string, arch: string): LockedLayer | undefined {
  return lock?.layers.find((l) => l.name === name && l.arch === arch);
}

function normalizedRequests(requests: PackageRequest[]): PackageRequest[] {
  return [...requests]
    .map((r) => ({ name: r.name, ...(r.version ? { version: r.version } : {}), ...(r.upstream ? { upstream: r.upstream } : {}) }))
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/** The runtime manifest a layer of the project uses, read now: its id and digest. */
export function layerRuntime(job: Pick<LayerJob, 'target' | 'runtimeManifest'>, projectDir: string): LockedRuntime {
  if (job.runtimeManifest) {
    const rt = loadRuntimeFile(job.runtimeManifest);
    return {
      id: rt.id,
      manifest: path.relative(projectDir, job.runtimeManifest).split(path.sep).join('/'),
      sha256: sha256(readInputFile(job.runtimeManifest, 'a runtime manifest')),
    };
  }
  const id = loadTarget(job.target).runtime;
  return { id, sha256: sha256(readFileSync(runtimeFile(id))) };
}

function describeRuntime(r: LockedRuntime): string {
  return r.manifest ? `runtime manifest ${r.manifest}` : `the target's runtime manifest (${r.id})`;
}

/** What differs between the runtime a layer uses now and the one its lock entry was resolved against. */
export function runtimeDifferences(now: LockedRuntime, then: LockedRuntime | undefined): string[] {
  // a lock from before runtimes were recorded: only a layer's own manifest is news to it
  if (!then) return now.manifest ? [`${describeRuntime(now)} added`] : [];
  if (now.manifest !== then.manifest) return [`${describeRuntime(then)} replaced by ${describeRuntime(now)}`];
  if (now.sha256 !== then.sha256) return [`${describeRuntime(now)} changed (sha256 ${now.sha256.slice(0, 12)}…, the lock has ${then.sha256.slice(0, 12)}…)`];
  return [];
}

export function lockedLayer(args: {
  job: Pick<LayerJob, 'name' | 'arch' | 'target' | 'packages'>;
  repositories: Repository[];
  runtime: LockedRuntime;
  image: string;
  identity: ImageIdentity;
  plan: Plan;
}): LockedLayer {
  return {
    name: args.job.name,
    arch: args.job.arch.lambda,
    target: args.job.target,
    requested: normalizedRequests(args.job.packages),
    repositories: args.repositories.map((r) => ({ url: repositoryLocation(r), ...(r.suites ? { suites: r.suites } : {}), ...(r.components ? { components: r.components } : {}) })),
    runtime: args.runtime,
    buildImage: { ref: args.image, id: args.identity.id, ...(args.identity.repoDigests.length ? { repoDigests: args.identity.repoDigests } : {}) },
    packages: args.plan.packages
      .map((p) => ({
        name: p.name,
        version: p.version,
        arch: p.arch,
        ...(p.sourcePackage ? { sourcePackage: p.sourcePackage } : {}),
        ...(p.checksum ? { sha256: p.checksum.value } : {}),
      }))
      .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)),
  };
}

function describeRequest(r: PackageRequest): string {
  return r.version ? `${r.name}=${r.version}` : r.upstream ? `${r.name} (upstream ${r.upstream})` : r.name;
}

/**
 * What differs between a manifest layer and the lock entry made from it, before anything is
 * resolved: the target, the requested packages and their constraints, the repositories, the
 * runtime manifest.
 */
export function requestDifferences(
  job: Pick<LayerJob, 'target' | 'packages'>,
  repositories: Array<Pick<Repository, 'id' | 'url' | 'release' | 'suites' | 'components'>>,
  runtime: LockedRuntime,
  locked: LockedLayer,
): string[] {
  const out: string[] = [];
  if (job.target !== locked.target) out.push(`target changed from ${locked.target} to ${job.target}`);
  const now = new Map(normalizedRequests(job.packages).map((r) => [r.name, r]));
  const then = new Map(normalizedRequests(locked.requested).map((r) => [r.name, r]));
  for (const [name, r] of now) {
    const was = then.get(name);
    if (!was) out.push(`package '${describeRequest(r)}' added to the manifest`);
    else if (describeRequest(was) !== describeRequest(r)) out.push(`package '${name}' changed from '${describeRequest(was)}' to '${describeRequest(r)}'`);
  }
  for (const [name, r] of then) if (!now.has(name)) out.push(`package '${describeRequest(r)}' removed from the manifest`);
  const key = (url: string, r: Pick<Repository, 'suites' | 'components'>) => `${url} ${(r.suites ?? []).join(',')} ${(r.components ?? []).join(',')}`.trim();
  const repoNow = repositories.map((r) => key(repositoryLocation(r), r));
  const repoThen = locked.repositories.map((r) => key(r.url, r));
  for (const r of repoNow) if (!repoThen.includes(r)) out.push(`repository '${r}' added`);
  for (const r of repoThen) if (!repoNow.includes(r)) out.push(`repository '${r}' removed`);
  out.push(...runtimeDifferences(runtime, locked.runtime));
  return out;
}

export interface PlanComparison {
  /** Differences that make a frozen build fail. */
  differences: string[];
  /** Worth saying, but not a difference in what gets built. */
  notes: string[];
}

/**
 * What differs between a resolved plan (and the build image that resolved it) and the lock:
 * packages added, removed, at another version, architecture or checksum; the build image.
 * A locally built image gets a new ID on every machine (image configs carry build times), so
 * only its reference (derived from its Dockerfile's content) is compared; an image with a
 * registry digest is compared by digest.
 */
export function comparePlan(locked: LockedLayer, plan: Plan, image: { ref: string; identity: ImageIdentity }): PlanComparison {
  const differences: string[] = [];
  const notes: string[] = [];
  const now = new Map(plan.packages.map((p) => [p.name, p]));
  const then = new Map(locked.packages.map((p) => [p.name, p]));
  for (const [name, p] of now) {
    const was = then.get(name);
    if (!was) differences.push(`package ${name} ${p.version} added (not in the lock)`);
    else if (was.version !== p.version) differences.push(`package ${name} ${was.version} in the lock, ${p.version} now`);
    else if (was.arch !== p.arch) differences.push(`package ${name} ${was.arch} in the lock, ${p.arch} now`);
    else if (was.sha256 && p.checksum && was.sha256 !== p.checksum.value)
      differences.push(`package ${name} ${p.version} has another checksum (sha256 ${p.checksum.value.slice(0, 12)}…, the lock says ${was.sha256.slice(0, 12)}…)`);
  }
  for (const [name, p] of then) if (!now.has(name)) differences.push(`package ${name} ${p.version} removed (in the lock, not resolved now)`);
  if (image.ref !== locked.buildImage.ref) differences.push(`build image ${image.ref}, the lock has ${locked.buildImage.ref}`);
  else if (locked.buildImage.repoDigests?.length) {
    if (!locked.buildImage.repoDigests.some((d) => image.identity.repoDigests.includes(d))) {
      differences.push(`build image ${image.ref} has digest ${image.identity.repoDigests.join(', ') || '(none)'}, the lock has ${locked.buildImage.repoDigests.join(', ')}`);
    }
  } else if (locked.buildImage.id !== image.identity.id) {
    notes.push(
      `build image ${image.ref} was built locally (id ${image.identity.id.slice(0, 19)}…, the lock recorded ${locked.buildImage.id.slice(0, 19)}…); local builds differ in build time only`,
    );
  }
  return { differences, notes };
}

/**
 * The check of `yumda build --frozen` right after resolving: a plan that differs from the lock
 * stops the build before anything is downloaded or written. Returns what is worth saying of a
 * match (a locally built image whose id differs only by its build time).
 */
export function requireLockedPlan(locked: LockedLayer, plan: Plan, image: { ref: string; identity: ImageIdentity }, label: string): string[] {
  const cmp = comparePlan(locked, plan, image);
  if (cmp.differences.length) {
    throw new UserError(`${label} resolves differently from ${LOCK_NAME}: ${cmp.differences.join('; ')}`, {
      hint: 'run `yumda update` to take the new versions into the lock, or restore the package cache that holds the locked ones',
    });
  }
  return cmp.notes;
}

/**
 * What `--frozen` refuses before any build starts: a layer the lock lacks, a layer whose
 * declaration moved away from its entry, and (when every layer is built) an entry of a layer the
 * manifest no longer has.
 */
export function frozenMismatches(
  lock: LockFile,
  layers: ReadonlyArray<{ name: string; arch: string; label: string; differences: (locked: LockedLayer) => string[] }>,
  opts: { manifestName: string; allLayers: boolean },
): string[] {
  const problems: string[] = [];
  for (const l of layers) {
    const locked = findLocked(lock, l.name, l.arch);
    if (!locked) problems.push(`${l.label} is not in ${LOCK_NAME}`);
    else for (const d of l.differences(locked)) problems.push(`${l.label}: ${d}`);
  }
  if (opts.allLayers) {
    for (const e of lock.layers) {
      if (!layers.some((l) => l.name === e.name && l.arch === e.arch)) problems.push(`layer '${e.name}' (${e.arch}) is in ${LOCK_NAME} but not in ${opts.manifestName}`);
    }
  }
  return problems;
}

/** The lock with `entries` put in place of theirs; entries of layers the manifest no longer has (`keep` false) are dropped. */
export function mergedLock(old: LockFile | undefined, entries: LockedLayer[], keep: (layer: { name: string; arch: string }) => boolean): LockFile {
  const key = (l: { name: string; arch: string }) => `${l.name}\0${l.arch}`;
  const byKey = new Map((old?.layers ?? []).filter(keep).map((l) => [key(l), l]));
  for (const e of entries) byKey.set(key(e), e);
  return { lockfileVersion: 1, layers: [...byKey.values()] };
}

/**
 * The requests to resolve: a range whose lock entry is current resolves to the locked version
 * (a build does not move versions; `yumda update` does).
 */
export function lockedRequests(requests: PackageRequest[], locked: LockedLayer | undefined): PackageRequest[] {
  return requests.map((r) => {
    if (!r.upstream || !locked) return r;
    const v = locked.packages.find((p) => p.name === r.name)?.version;
    return v ? { name: r.name, version: v } : r;
  });
}

/** The lock entry's versions as resolver pins. */
export function pinsOf(locked: LockedLayer): VersionPin[] {
  return locked.packages.map((p) => ({ name: p.name, version: p.version, arch: p.arch }));
}

/** What changed between two lock entries of a layer, for `yumda update` and `yumda build` to report. */
export function lockChanges(before: LockedLayer | undefined, after: LockedLayer): string[] {
  if (!before) return [`new: ${plural(after.packages.length, 'package')}`];
  const out: string[] = [];
  const then = new Map(before.packages.map((p) => [p.name, p]));
  const now = new Map(after.packages.map((p) => [p.name, p]));
  for (const [name, p] of now) {
    const was = then.get(name);
    if (!was) out.push(`+ ${name} ${p.version}`);
    else if (was.version !== p.version) out.push(`~ ${name} ${was.version} → ${p.version}`);
  }
  for (const [name, p] of then) if (!now.has(name)) out.push(`- ${name} ${p.version}`);
  if (before.buildImage.ref !== after.buildImage.ref) out.push(`~ build image ${before.buildImage.ref} → ${after.buildImage.ref}`);
  if (after.runtime && runtimeDifferences(after.runtime, before.runtime).length) {
    out.push(
      `~ ${describeRuntime(after.runtime)}${before.runtime && before.runtime.manifest === after.runtime.manifest ? ` sha256 ${before.runtime.sha256.slice(0, 12)}… → ${after.runtime.sha256.slice(0, 12)}…` : ''}`,
    );
  }
  return out;
}
