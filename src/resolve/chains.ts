import type { PlannedPackage } from './plan.js';

type Node = Pick<PlannedPackage, 'name' | 'provides' | 'depends'>;

/**
 * The plan's dependency edges by package name: each package to the planned packages that satisfy
 * its dependencies. Every planned provider of an alternative counts (the plan does not record which
 * one the package manager chose, and each is shipped); a dependency nothing planned provides is
 * the runtime's, so it has no edge.
 */
export function dependencyEdges(packages: readonly Node[]): Map<string, string[]> {
  const providers = new Map<string, Set<string>>();
  for (const p of packages) {
    for (const n of [p.name, ...p.provides]) {
      const set = providers.get(n) ?? new Set<string>();
      set.add(p.name);
      providers.set(n, set);
    }
  }
  const edges = new Map<string, string[]>();
  for (const p of packages) {
    const out = new Set<string>();
    for (const alternatives of p.depends) for (const alt of alternatives) for (const prov of providers.get(alt) ?? []) if (prov !== p.name) out.add(prov);
    edges.set(p.name, [...out].sort());
  }
  return edges;
}

/** Distance from `roots` (0 for a root) of every package they reach, breadth first. */
function distances(edges: ReadonlyMap<string, readonly string[]>, roots: readonly string[]): Map<string, number> {
  const dist = new Map<string, number>();
  const queue: string[] = [];
  for (const r of roots) {
    if (edges.has(r) && !dist.has(r)) {
      dist.set(r, 0);
      queue.push(r);
    }
  }
  for (let i = 0; i < queue.length; i++) {
    const cur = queue[i]!;
    for (const next of edges.get(cur) ?? []) {
      if (dist.has(next)) continue;
      dist.set(next, dist.get(cur)! + 1);
      queue.push(next);
    }
  }
  return dist;
}

/**
 * The shortest dependency chains from each requested package that reaches `target` to it, each
 * chain from the requested package to `target` (`[target]` alone when it is itself requested).
 * Ordered by requested package, then by name, at most `limit` in all: a library deep in a large
 * plan can be reached by many chains of the same length, and a few say why it is there.
 */
export function shortestChains(packages: readonly Node[], requested: readonly string[], target: string, limit = 5): string[][] {
  const edges = dependencyEdges(packages);
  if (!edges.has(target)) return [];
  const out: string[][] = [];
  for (const root of [...new Set(requested)]) {
    if (out.length >= limit) break;
    const dist = distances(edges, [root]);
    const d = dist.get(target);
    if (d === undefined) continue;
    // walk forward along edges that keep to a shortest path: one step nearer to target each time
    const toTarget = distancesTo(edges, target, dist);
    const walk = (path: string[]): void => {
      if (out.length >= limit) return;
      const cur = path[path.length - 1]!;
      if (cur === target) {
        out.push(path);
        return;
      }
      for (const next of edges.get(cur) ?? []) {
        if (dist.get(next) === path.length && toTarget.get(next) === d - path.length) walk([...path, next]);
      }
    };
    walk([root]);
  }
  return out;
}

/** Each package's distance to `target` along edges, for the packages `from` reaches. */
function distancesTo(edges: ReadonlyMap<string, readonly string[]>, target: string, from: ReadonlyMap<string, number>): Map<string, number> {
  const reverse = new Map<string, string[]>();
  for (const [a, bs] of edges) {
    if (!from.has(a)) continue;
    for (const b of bs) reverse.set(b, [...(reverse.get(b) ?? []), a]);
  }
  return distances(reverse, [target]);
}

/**
 * For each package the requested ones pull in, the packages one step before it on its shortest
 * chains from them: what the plan's PULLED IN BY column names. A requested package has none; a
 * package no chain reaches (a plan without dependency records) is left out.
 */
export function directParents(packages: readonly Node[], requested: readonly string[]): Map<string, string[]> {
  const edges = dependencyEdges(packages);
  const dist = distances(edges, requested);
  const parents = new Map<string, string[]>();
  for (const [from, tos] of edges) {
    const d = dist.get(from);
    if (d === undefined) continue;
    for (const to of tos) {
      if (dist.get(to) !== d + 1) continue;
      parents.set(to, [...(parents.get(to) ?? []), from]);
    }
  }
  return new Map([...parents].map(([k, v]) => [k, [...new Set(v)].sort()]));
}

/** One step of a chain: the package, and whether the one before depends on it or only recommends it. */
export interface ChainStep {
  name: string;
  /** Absent for the chain's first package. */
  via?: 'depends' | 'recommends';
}

type WeakNode = Node & { recommends: string[][] };

/**
 * The shortest chains to `target` when recommendations count as dependencies too (what the plan
 * leaves out: yumda installs no recommended package), each step saying which it took. A step
 * a package both depends on and recommends is a dependency.
 */
export function chainsWithRecommends(nodes: readonly WeakNode[], requested: readonly string[], target: string, limit = 5): ChainStep[][] {
  const byName = new Map(nodes.map((n) => [n.name, n]));
  const all = nodes.map((n) => ({ name: n.name, provides: n.provides, depends: [...n.depends, ...n.recommends] }));
  return shortestChains(all, requested, target, limit).map((chain) =>
    chain.map((name, i) => {
      if (i === 0) return { name };
      const from = byName.get(chain[i - 1]!)!;
      const to = byName.get(name)!;
      const names = new Set([to.name, ...to.provides]);
      return { name, via: from.depends.some((alts) => alts.some((a) => names.has(a))) ? 'depends' : 'recommends' };
    }),
  );
}

/** `a → b (recommends) → c`: a chain as `yumda why` prints it. */
export function formatChain(steps: readonly ChainStep[]): string {
  return steps.map((s, i) => (i === 0 ? s.name : `${s.via === 'recommends' ? ' (recommends) → ' : ' → '}${s.name}`)).join('');
}
