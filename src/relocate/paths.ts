import path from 'node:path';
import type { FileTree } from '../tree/types.js';
import { LAYER_ROOT, STATE_ROOT, relocatedAddress } from './placement.js';
import { padPath } from '../elf/patch.js';

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

/** Top-level names of the layer that a compiled-in /etc alias must not take. */
const RESERVED_TOP = new Set(['bin', 'lib', 'lib32', 'libexec', 'share', 'etc', 'include', '.yumda', 'python', 'nodejs', 'java', 'ruby']);

export type BinaryRewrite = { kind: 'rewrite'; to: string; alias?: { link: string; target: string } } | { kind: 'cannot'; why: string };

/**
 * What relocation knows about paths of the original filesystem: which ones the layer ships and
 * where they went. Used to rewrite paths found in text files (which may grow) and in binaries
 * (which must keep their length).
 */
export class PathMap {
  private readonly stagedDirs = new Set<string>();
  private readonly roots: Set<string>;

  constructor(
    private readonly staged: FileTree,
    private readonly inLayer: (p: string) => boolean,
    private readonly triplet: string,
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
    return addr.startsWith(LAYER_ROOT + '/') && this.inLayer(relocatedAddress(owned, this.triplet)) ? addr : undefined;
  }

  /** Config files may name state the package creates at run time: every /var path moves. */
  configAddress(p: string): string | undefined {
    if (p.startsWith('/var/') && !this.roots.has(p)) return relocatedAddress(p, this.triplet);
    return this.shipped(p);
  }

  /** pkg-config and libtool files name installation directories, shipped or not: all move. */
  installAddress(p: string): string | undefined {
    const addr = relocatedAddress(p, this.triplet);
    return addr.startsWith(LAYER_ROOT) ? addr : undefined;
  }

  /**
   * How to rewrite a path compiled into a binary, in place. `/usr/` → `/opt/` and `/var/` →
   * `/tmp/` keep the length; shorter addresses are padded with slashes; `/etc/X` would grow to
   * `/opt/etc/X`, so it becomes `/opt/X` with a link /opt/X → etc/X.
   */
  forBinary(found: string): BinaryRewrite | undefined {
    const slash = found.length > 1 && found.endsWith('/');
    // `/usr/lib/x86_64-linux-gnu/ImageMagick-6.9.11//modules-Q16` is how builds join paths
    const p = path.posix.normalize(found).replace(/\/+$/, '');
    let addr = this.shipped(p);
    if (addr === undefined) return undefined;
    if (slash) addr += '/';
    const padded = padPath(found, addr, found.length);
    if (padded !== undefined) return { kind: 'rewrite', to: padded };
    if (p.startsWith('/etc/')) {
      const rest = p.slice('/etc/'.length);
      const top = rest.split('/')[0]!;
      if (RESERVED_TOP.has(top)) return { kind: 'cannot', why: `/opt/${top} is taken by the layer's own hierarchy` };
      return { kind: 'rewrite', to: `${LAYER_ROOT}/${rest}${slash ? '/' : ''}`, alias: { link: `${LAYER_ROOT}/${top}`, target: `etc/${top}` } };
    }
    return { kind: 'cannot', why: `its new place ${addr} is longer than the ${found.length} bytes the binary has` };
  }
}

export { STATE_ROOT };
