/** The resolved set of packages a layer is built from, whatever the package manager. */

export interface PlannedPackage {
  name: string;
  version: string;
  arch: string;
  /** Bytes to download. */
  downloadSize: number;
  /** Bytes once unpacked (before relocation drops docs etc.). */
  installedSize: number;
  /** The requested packages whose dependencies pull this one in (itself, when requested). */
  requiredBy: string[];
  requested: boolean;
  /** Names and virtual names this package satisfies dependencies on. */
  provides: string[];
  /** Dependencies, as alternatives of names: [[a], [b, c]] means a and (b or c). */
  depends: string[][];
  sourcePackage?: string;
  license?: string;
  checksum?: { algorithm: 'sha256'; value: string };
  repository?: string;
  filename?: string;
}

/** A runtime package the closure needs at a newer version than the runtime has. */
export interface VersionSkew {
  name: string;
  runtimeVersion: string;
  neededVersion: string;
}

export interface Plan {
  packages: PlannedPackage[];
  /** Runtime packages the closure depends on: not shipped, because Lambda already has them. */
  fromRuntime: string[];
  skew: VersionSkew[];
}

/**
 * For each package, which requested packages reach it through dependencies within the plan.
 * A dependency on a name no planned package provides is satisfied elsewhere (the runtime).
 */
export function attribute(packages: Array<Pick<PlannedPackage, 'name' | 'provides' | 'depends'>>, requested: string[]): Map<string, string[]> {
  const providers = new Map<string, string[]>();
  for (const p of packages) {
    for (const n of new Set([p.name, ...p.provides])) {
      const list = providers.get(n) ?? [];
      list.push(p.name);
      providers.set(n, list);
    }
  }
  const byName = new Map(packages.map((p) => [p.name, p]));
  const out = new Map<string, Set<string>>(packages.map((p) => [p.name, new Set<string>()]));
  for (const root of requested) {
    if (!byName.has(root)) continue;
    const seen = new Set<string>([root]);
    const queue = [root];
    while (queue.length) {
      const cur = byName.get(queue.shift()!)!;
      out.get(cur.name)!.add(root);
      for (const alternatives of cur.depends) {
        for (const alt of alternatives) {
          for (const prov of providers.get(alt) ?? []) {
            if (!seen.has(prov)) {
              seen.add(prov);
              queue.push(prov);
            }
          }
        }
      }
    }
  }
  return new Map([...out].map(([k, v]) => [k, [...v].sort()]));
}

/** Names the closure depends on that no planned package provides: what the runtime supplies. */
export function runtimeDependencies(packages: Array<Pick<PlannedPackage, 'name' | 'provides' | 'depends'>>, runtimeNames: Set<string>): string[] {
  const planned = new Set(packages.flatMap((p) => [p.name, ...p.provides]));
  const out = new Set<string>();
  for (const p of packages) {
    for (const alternatives of p.depends) {
      if (alternatives.some((a) => planned.has(a))) continue;
      const hit = alternatives.find((a) => runtimeNames.has(a));
      if (hit) out.add(hit);
    }
  }
  return [...out].sort();
}
