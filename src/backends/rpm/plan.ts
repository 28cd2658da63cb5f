/**
 * From the package manager's answer to a plan: which packages of the resolved closure the layer
 * ships, which the Lambda runtime already has, and where the runtime's version is too old.
 *
 * The closure is resolved by dnf/yum into an empty root (exact NEVRAs, no weak dependencies).
 * Because the runtime's own package set is dependency-closed, subtracting it afterwards is sound as
 * long as each requirement is checked against the runtime's *versions*: a requirement the runtime
 * satisfies stops the walk there; one it does not satisfy (a newer symbol version, `>= x`) is
 * version skew, decided by resolve/skew.ts. Pure: the helper in the build container supplies the data.
 */
import { UserError } from '../../util/errors.js';
import { cLibraryFix } from '../../check/c-library.js';
import type { Runtime, RuntimePackage } from '../../registry/types.js';
import { attribute, type Plan, type PlannedPackage, type VersionSkew } from '../../resolve/plan.js';
import { formatEvr, parseReldep, satisfies, type Reldep } from './version.js';
import { decideSkew, type SkewContext } from '../../resolve/skew.js';

/** One package of the resolved closure, as the helper script (yumda_rpm.py) reports it. */
export interface RpmPackageInfo {
  name: string;
  epoch: number;
  version: string;
  release: string;
  arch: string;
  downloadSize: number;
  installedSize: number;
  repo: string;
  location: string;
  checksum: { type: string; value: string } | null;
  sourcerpm: string | null;
  license: string | null;
  provides: string[];
  /** Each requirement with the closure's packages that provide it. */
  requires: Array<{ dep: string; providers: string[] }>;
}

export interface RpmResolution {
  packages: RpmPackageInfo[];
  /** Provides of the runtime's packages, read from the repositories at the runtime's exact versions. */
  runtimeProvides: Record<string, string[]>;
}

export interface RpmPlanInput {
  resolution: RpmResolution;
  requested: Array<{ name: string; version?: string | undefined }>;
  runtime: Pick<Runtime, 'id' | 'packages' | 'libraries'> & Partial<Pick<Runtime, 'provenance'>>;
  /** rpm's name for the target architecture (x86_64, aarch64): the ISA provides are derived from it. */
  rpmArch: string;
  /** Packages whose files must be the runtime's own (the target's `runtimeBound`). */
  runtimeBound: ReadonlySet<string>;
}

export interface RpmPlan extends Plan {
  /** Notes on version skew the plan resolved by shipping the newer package. */
  notes: string[];
}

/** Packages whose files must be the runtime's own: a second C library in /opt cannot work. */

export function evrOf(p: { epoch: number; version: string; release: string }): string {
  return formatEvr({ epoch: p.epoch, version: p.version, release: p.release });
}

/** `libfoo.so.1()(64bit)` and `libfoo.so.1(FOO_1.2)(64bit)` name the file libfoo.so.1. */
export function sonameOf(provide: string): string | undefined {
  const m = /^([^\s()]+\.so(?:\.[^\s()]*)?)(?:\(|$)/.exec(provide);
  return m?.[1];
}

/** The marker rpm appends to ISA-specific provides: `foo(x86-64)`, `foo(aarch-64)`. */
export function isaMarker(rpmArch: string): string {
  return rpmArch === 'aarch64' ? '(aarch-64)' : rpmArch === 'x86_64' ? '(x86-64)' : `(${rpmArch})`;
}

interface RuntimeCaps {
  pkg: RuntimePackage;
  evr: string;
  caps: Reldep[];
}

/** Every capability each runtime package provides: its name and ISA name at its version, and its provides. */
export function runtimeCapabilities(runtime: Pick<Runtime, 'packages'>, fromRepo: Record<string, string[]>, rpmArch: string): RuntimeCaps[] {
  return runtime.packages.map((pkg) => {
    const evr = pkg.version;
    const own = [`${pkg.name} = ${evr}`];
    if (pkg.arch !== 'noarch') own.push(`${pkg.name}${isaMarker(rpmArch)} = ${evr}`);
    const provides = fromRepo[pkg.name] ?? pkg.provides ?? [];
    return { pkg, evr, caps: [...own, ...provides].map(parseReldep) };
  });
}

function ignorable(dep: string): boolean {
  // rpmlib() features are rpm's own; the layer is never installed with rpm
  return dep.startsWith('rpmlib(');
}

function unprovided(p: RpmPackageInfo, dep: string, runtimeId: string): UserError {
  return new UserError(`${p.name}-${evrOf(p)}.${p.arch} requires ${dep}, which no package of the resolved closure provides and the ${runtimeId} runtime does not have`, {
    hint: 'the package manager resolved a closure yumda cannot account for: please report this with the packages asked for',
  });
}

export function planFromResolution(input: RpmPlanInput): RpmPlan {
  const { resolution, runtime } = input;
  const byName = new Map(resolution.packages.map((p) => [p.name, p]));
  const runtimeByName = new Map(runtime.packages.map((p) => [p.name, p]));
  const caps = runtimeCapabilities(runtime, resolution.runtimeProvides, input.rpmArch);
  const ctx: SkewContext = { runtimeId: runtime.id, runtimeLibraries: new Set(runtime.libraries) };

  const runtimeSatisfier = (dep: string, providers: string[]): string | undefined => {
    if (dep.startsWith('/')) {
      // a file: the runtime has it when the package that owns it is a runtime package
      return providers.find((n) => runtimeByName.has(n));
    }
    const req = parseReldep(dep);
    if (req.rich) return undefined;
    return caps.find((c) => c.caps.some((p) => satisfies(p, req)))?.pkg.name;
  };

  const shipped = new Set<string>();
  const fromRuntime = new Set<string>();
  const skew: VersionSkew[] = [];
  const notes: string[] = [];
  const edges = new Map<string, Set<string>>();
  const queue: string[] = [];
  const ship = (name: string) => {
    if (shipped.has(name)) return;
    shipped.add(name);
    edges.set(name, new Set());
    queue.push(name);
  };
  const skewed = (name: string, requirement: string, requiredBy: string) => {
    const have = runtimeByName.get(name)!;
    const need = byName.get(name)!;
    const decision = decideSkew(
      {
        name,
        runtimeVersion: have.version,
        neededVersion: evrOf(need),
        requirement,
        requiredBy,
        libraries: [...new Set(need.provides.map(sonameOf).filter((s): s is string => !!s))].sort(),
        runtimeBound: input.runtimeBound.has(name),
      },
      ctx,
    );
    if (decision.action === 'stop') {
      // the manifest may be older than the runtime Lambda runs today: say where its versions come from
      const asOf = runtime.provenance
        ? ` (the manifest's versions are from ${runtime.provenance.source.split(' (')[0]}; if Lambda's runtime is newer, regenerate the manifest with \`yumda runtime refresh\` or pass --runtime-manifest)`
        : '';
      // the C library: the GLIBC version that is needed, and where it is
      if (name === 'glibc') {
        const glibc = /GLIBC_[\d.]+\d/.exec(requirement)?.[0] ?? `GLIBC_${/^(?:\d+:)?([\d.]+\d)/.exec(evrOf(need))?.[1] ?? need.version}`;
        throw new UserError(`${decision.reason} (${glibc})`, { hint: `${cLibraryFix('libc.so.6', glibc)}${asOf}` });
      }
      throw new UserError(decision.reason, { hint: `pin an older version of the package that needs it (NAME=VERSION), or target a newer runtime${asOf}` });
    }
    skew.push({ name, runtimeVersion: have.version, neededVersion: evrOf(need) });
    notes.push(decision.note);
    ship(name);
  };

  // a request may name a package or something one provides (`git` → git-core): the roots are packages
  const roots: string[] = [];
  for (const r of input.requested) {
    const p = byName.get(r.name) ?? resolution.packages.find((x) => x.provides.some((cap) => parseReldep(cap).name === r.name));
    if (!p) throw new Error(`the resolver did not report requested package ${r.name}`);
    roots.push(p.name);
    const have = runtimeByName.get(p.name);
    if (have && (!r.version || satisfies(parseReldep(`${p.name} = ${have.version}`), parseReldep(`${p.name} = ${r.version}`)))) {
      fromRuntime.add(p.name);
      continue;
    }
    if (have) skewed(p.name, `${p.name} = ${r.version}`, 'the request');
    else ship(p.name);
  }

  while (queue.length) {
    const cur = byName.get(queue.shift()!)!;
    const own = cur.provides.map(parseReldep);
    for (const { dep, providers } of cur.requires) {
      if (ignorable(dep)) continue;
      const req = parseReldep(dep);
      // the package itself satisfies it (a provide, or for a file requirement a file it ships)
      if (!req.rich && own.some((p) => satisfies(p, req))) continue;
      if (providers.includes(cur.name)) continue;
      const fromRt = runtimeSatisfier(dep, providers);
      if (fromRt) {
        fromRuntime.add(fromRt);
        continue;
      }
      const inClosure = providers.filter((n) => byName.has(n)).sort();
      const already = inClosure.find((n) => shipped.has(n));
      const fresh = inClosure.find((n) => !runtimeByName.has(n));
      const pick = already ?? fresh;
      if (pick) {
        edges.get(cur.name)!.add(pick);
        ship(pick);
        continue;
      }
      const old = inClosure.find((n) => runtimeByName.has(n));
      if (old) {
        skewed(old, dep, cur.name);
        edges.get(cur.name)!.add(old);
        continue;
      }
      // A rich dependency (`(a if b)`) can be satisfied by nothing when its condition is false.
      // Any other requirement has a provider in a closure resolved into an empty root: none means
      // the helper's view of the closure is wrong, and a layer built from it could lack a package
      // its programs need at run time. Refused rather than dropped: no build ships it silently.
      if (!req.rich) throw unprovided(cur, dep, input.runtime.id);
    }
  }

  const packages: PlannedPackage[] = resolution.packages
    .filter((p) => shipped.has(p.name))
    .sort((a, b) => a.name.localeCompare(b.name))
    .map((p) => ({
      name: p.name,
      version: evrOf(p),
      arch: p.arch,
      downloadSize: p.downloadSize,
      installedSize: p.installedSize,
      requiredBy: [],
      requested: roots.includes(p.name),
      provides: [p.name],
      depends: [...(edges.get(p.name) ?? [])].sort().map((n) => [n]),
      sourcePackage: p.sourcerpm?.replace(/-[^-]+-[^-]+\.src\.rpm$/, '') ?? p.name,
      ...(p.license ? { license: p.license } : {}),
      ...(p.checksum?.type === 'sha256' ? { checksum: { algorithm: 'sha256' as const, value: p.checksum.value } } : {}),
      repository: p.repo,
      filename: p.location,
    }));
  const by = attribute(packages, roots);
  for (const p of packages) p.requiredBy = by.get(p.name) ?? [];
  return { packages, fromRuntime: [...fromRuntime].sort(), skew, notes };
}
