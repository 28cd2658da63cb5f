import path from 'node:path';
import type { FileTree } from '../tree/types.js';
import { STATE_ROOT, keptStateAddress, relocatedAddress } from './placement.js';
import { inPlacePlans, type SubpathLink } from './subpaths.js';
import { relativeLink } from '../tree/links.js';
import type { ResolvableTree } from '../tree/resolve.js';
import { LAYER_ROOT } from '../format/lambda.js';

/**
 * Directories too broad to rewrite when they appear alone: they hold the runtime's files as well
 * as the layer's (`/usr/lib/x86_64-linux-gnu` as a search directory must keep finding libc).
 */
function hierarchyRoots(triplet: string): Set<string> {
  return new Set([
    '/usr',
    '/usr/bin',
    '/usr/sbin',
    '/usr/lib',
    '/usr/lib64',
    '/usr/libexec',
    '/usr/share',
    '/usr/include',
    '/usr/local',
    '/usr/local/bin',
    '/usr/local/lib',
    '/usr/local/share',
    '/etc',
    '/var',
    '/bin',
    '/sbin',
    '/lib',
    '/lib64',
    '/opt',
    `/usr/lib/${triplet}`,
    `/lib/${triplet}`,
    '/var/lib',
    '/var/cache',
    '/var/log',
    '/var/run',
    '/var/spool',
  ]);
}

/**
 * Top-level names of the layer a link must not take: its own hierarchy, and the directories
 * Lambda's runtimes search in layers (/opt/python, /opt/nodejs, …), which another layer may fill.
 */
const RESERVED_TOP = new Set(['bin', 'lib', 'lib32', 'libexec', 'share', 'etc', 'include', '.yumda', 'python', 'nodejs', 'java', 'ruby']);

/**
 * A single name that a program plausibly joins to a directory: one with a dot, dash, underscore,
 * plus or digit (`gst-plugin-scanner`, `libfoo.so.1`, `foo-modules-1.2`, `espeak-ng-data`).
 */
export const FILE_NAME = /^[^/]*[._+\-0-9][^/]*$/;

export type BinaryRewrite = { kind: 'rewrite'; to: string; links: SubpathLink[] } | { kind: 'cannot'; why: string };

/**
 * What relocation knows about paths of the original filesystem: which ones the layer ships and
 * where they went. Used to rewrite paths found in text files (which may grow) and in binaries
 * (which must keep their length).
 */
export class PathMap {
  private readonly stagedDirs = new Set<string>();
  private readonly roots: Set<string>;
  /** Links promised to earlier rewrites: a later one may share them, never contradict them. */
  private readonly promised = new Map<string, string>();

  constructor(
    private readonly staged: FileTree,
    private readonly layer: ResolvableTree,
    readonly triplet: string,
    /** Directories under /var/lib the layer ships read-only (placement.ts keptStateAddress). */
    private readonly keptState: readonly string[] = [],
  ) {
    for (const p of staged.keys()) {
      for (let d = path.posix.dirname(p); d !== '/' && !this.stagedDirs.has(d); d = path.posix.dirname(d)) this.stagedDirs.add(d);
    }
    this.roots = hierarchyRoots(triplet);
  }

  private stagedHas(p: string): boolean {
    return this.staged.has(p) || this.stagedDirs.has(p);
  }

  /** A directory shared with the runtime (/usr/bin, /usr/lib/<triplet>, …), never rewritten as a path of the layer. */
  isHierarchyRoot(p: string): boolean {
    return this.roots.has(p);
  }

  /** Every hierarchy root above `p`, nearest first. */
  rootsAbove(p: string): string[] {
    const out: string[] = [];
    for (let d = path.posix.dirname(p); d !== '/'; d = path.posix.dirname(d)) if (this.roots.has(d)) out.push(d);
    return out;
  }

  /**
   * Paths the packages put there themselves (files, links, the directories that hold them)
   * and the layer ships: evidence that a program means the layer when it names them.
   */
  *shippedPaths(): Iterable<string> {
    for (const p of [...this.staged.keys(), ...this.stagedDirs]) if (this.shippedExactly(p)) yield p;
  }

  /** `p` is a path of the packages (not only below one of their directories) and the layer ships it. */
  shippedExactly(p: string): boolean {
    return this.stagedHas(p) && !p.startsWith('/var/') && this.shipped(p) !== undefined;
  }

  /**
   * The new address of `p` when the layer ships it (a file, link or directory of the packages,
   * not a directory shared with the runtime), or of a package's own state under /var.
   */
  shipped(p: string): string | undefined {
    if (this.roots.has(p)) return undefined;
    if (p === '/var/tmp' || p.startsWith('/var/tmp/')) return relocatedAddress(p, this.triplet);
    const kept = keptStateAddress(p, this.keptState);
    if (kept) return kept;
    // the path itself, or the nearest directory above it that the packages have (a file that
    // is created later, or optional, in a directory the layer ships)
    let owned: string | undefined;
    for (let q = p; q !== '/' && !this.roots.has(q); q = path.posix.dirname(q)) {
      if (this.stagedHas(q)) {
        owned = q;
        break;
      }
    }
    if (owned === undefined) return undefined;
    const addr = relocatedAddress(p, this.triplet);
    if (addr === p) return undefined;
    if (p.startsWith('/var/')) return addr;
    return addr.startsWith(LAYER_ROOT + '/') && this.layer.get(relocatedAddress(owned, this.triplet)) !== undefined ? addr : undefined;
  }

  /** Config files may name state the package creates at run time: every /var path moves. */
  configAddress(p: string): string | undefined {
    if (p.startsWith('/var/') && !this.roots.has(p)) return relocatedAddress(p, this.triplet, this.keptState);
    return this.shipped(p);
  }

  /** pkg-config and libtool files name installation directories, shipped or not: all move. */
  installAddress(p: string): string | undefined {
    const addr = relocatedAddress(p, this.triplet);
    return addr.startsWith(LAYER_ROOT) ? addr : undefined;
  }

  /**
   * How to rewrite a path compiled into a binary, in place: its root swapped (`/usr` and `/etc` to
   * `/opt`, `/var` to `/tmp`), every later byte kept (subpaths.ts), with the links that make the
   * kept tail lead to the layer's file. Undefined when the layer does not ship what it names.
   */
  forBinary(found: string): BinaryRewrite | undefined {
    const p = path.posix.normalize(found).replace(/\/+$/, '');
    if (this.shipped(p) === undefined && !this.namesShippedSibling(p)) return undefined;
    return this.inPlace(found);
  }

  /**
   * A path no package has, whose last component the layer ships right in the hierarchy root
   * above it: programs derive that directory from it by its string (espeak-ng names
   * `/usr/lib/<triplet>/espeak/espeak-ng-data` and reads `/usr/lib/<triplet>/espeak-ng-data`).
   * With its root swapped and its tail kept the derivation lands in the layer, as it did on the
   * distribution.
   */
  private namesShippedSibling(p: string): boolean {
    const root = this.rootsAbove(p)[0];
    const name = path.posix.basename(p);
    if (!root || path.posix.dirname(p) === root || !FILE_NAME.test(name)) return false;
    return this.shippedExactly(`${root}/${name}`);
  }

  /**
   * `s` (a path, bare directory or not, absolute or relative to the prefix, as the binary spells
   * it) rewritten in place, first components only (subpaths.ts), with the links that make it lead
   * where the layout puts it; or why that cannot be.
   */
  inPlace(s: string): BinaryRewrite {
    const kept = this.keptStateRewrite(s);
    if (kept) return kept;
    const plans = inPlacePlans(s, this.triplet);
    if ('why' in plans) return { kind: 'cannot', why: plans.why };
    let why = '';
    for (const plan of plans) {
      const problem = plan.links.map((l) => this.linkProblem(l)).find((w) => w !== undefined);
      if (problem) {
        why ||= problem;
        continue;
      }
      for (const l of plan.links) this.promised.set(l.link, l.target);
      return { kind: 'rewrite', to: plan.to, links: plan.links };
    }
    return { kind: 'cannot', why };
  }

  /**
   * A string naming state the layer ships read-only (`/var/lib/texmf/…`, at /opt/var/lib/texmf):
   * its root swapped for /opt, its tail kept (`/opt/lib/texmf/…`), and a link
   * /opt/lib/texmf → ../var/lib/texmf, as /etc/fonts/… gets /opt/fonts → etc/fonts. Undefined
   * for any other string.
   */
  private keptStateRewrite(s: string): BinaryRewrite | undefined {
    if (!s.startsWith('/var/')) return undefined;
    const p = path.posix.normalize(s).replace(/\/+$/, '');
    const dir = this.keptState.find((d) => p === d || p.startsWith(`${d}/`));
    if (dir === undefined) return undefined;
    const link = `${LAYER_ROOT}${dir.slice('/var'.length)}`;
    const l = { link, target: relativeLink(link, `${LAYER_ROOT}${dir}`) };
    const problem = this.linkProblem(l);
    if (problem) return { kind: 'cannot', why: `it names state the layer ships read-only at ${LAYER_ROOT}${p}, and ${problem}` };
    this.promised.set(l.link, l.target);
    return { kind: 'rewrite', to: LAYER_ROOT + s.slice('/var'.length), links: [l] };
  }

  private linkProblem(l: SubpathLink): string | undefined {
    const top = l.link.slice(LAYER_ROOT.length + 1);
    if (!top.includes('/') && RESERVED_TOP.has(top)) return `${l.link} is reserved for the layer's own hierarchy`;
    const promised = this.promised.get(l.link);
    if (promised !== undefined && promised !== l.target) return `${l.link} must already lead to ${promised}`;
    const there = this.layer.get(l.link);
    if (there === undefined || (there.kind === 'symlink' && there.target === l.target)) return undefined;
    return `it would need a link at ${l.link}, where the layer has a ${there.kind === 'symlink' ? 'link elsewhere' : there.kind}`;
  }
}

export { STATE_ROOT };
