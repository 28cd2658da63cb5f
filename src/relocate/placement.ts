import { LAYER_ROOT } from '../format/lambda.js';
/**
 * Where each path of a staged root goes in the layer: the filesystem-hierarchy rules of the
 * relocation, as data plus one pure function. Lambda unpacks a layer at /opt and searches
 * /opt/bin and /opt/lib (not /opt/lib64), so every executable directory folds into /opt/bin and
 * every library directory into /opt/lib.
 */

/**
 * State moves under /tmp, the only writable place on Lambda: /var/X becomes /tmp/X, which keeps
 * the length, so compiled-in state paths can be rewritten in place too. /var/tmp is /tmp itself.
 */
export const STATE_ROOT = '/tmp';

export type DropReason = 'docs' | 'man' | 'locale' | 'headers' | 'static' | 'debug' | 'state' | 'system' | 'recipe';

export interface KeepOptions {
  docs: boolean;
  locales: boolean;
  headers: boolean;
  staticLibs: boolean;
}

export const DEFAULT_KEEP: KeepOptions = { docs: false, locales: false, headers: false, staticLibs: false };

export interface LayoutOptions {
  /** GNU triplet of the target architecture (x86_64-linux-gnu). */
  triplet: string;
  keep: KeepOptions;
  /**
   * Directories under /var/lib whose content the layer ships, read-only (keptStateAddress): what
   * the packages' scripts generated there that programs read at run time (TeX's formats and
   * filename databases in /var/lib/texmf).
   */
  keptState?: readonly string[];
}

/**
 * Where state a script generated and programs only read goes: the layer, at its own path under
 * /opt (`/var/lib/texmf` → `/opt/var/lib/texmf`). /tmp, where other state goes, is empty when an
 * execution environment starts, so a program could not find it there. The paths that name it
 * follow in text files (texmf.cnf's TEXMFSYSVAR) and symlinks (TeX's ls-R links) like every
 * other path; in a binary, which cannot grow, `/var` becomes `/opt` and a link
 * /opt/lib/<name> → ../var/lib/<name> leads the kept tail there (paths.ts).
 */
export function keptStateAddress(p: string, keptState: readonly string[] | undefined): string | undefined {
  return keptState?.some((d) => under(p, d)) ? LAYER_ROOT + p : undefined;
}

export type Placement = { kind: 'place'; to: string } | { kind: 'drop'; reason: DropReason };

interface PrefixRule {
  from: string;
  to: string;
}

/** Longest prefix first; `{triplet}` is the target's multiarch directory. */
const PREFIXES: PrefixRule[] = [
  { from: '/usr/local/lib/{triplet}', to: '/opt/lib' },
  { from: '/usr/lib/{triplet}', to: '/opt/lib' },
  { from: '/lib/{triplet}', to: '/opt/lib' },
  { from: '/usr/local/lib64', to: '/opt/lib' },
  { from: '/usr/local/lib', to: '/opt/lib' },
  { from: '/usr/lib64', to: '/opt/lib' },
  { from: '/usr/lib32', to: '/opt/lib32' },
  { from: '/usr/lib', to: '/opt/lib' },
  { from: '/lib64', to: '/opt/lib' },
  { from: '/lib', to: '/opt/lib' },
  { from: '/usr/local/libexec', to: '/opt/libexec' },
  { from: '/usr/libexec', to: '/opt/libexec' },
  { from: '/usr/local/bin', to: '/opt/bin' },
  { from: '/usr/local/sbin', to: '/opt/bin' },
  { from: '/usr/bin', to: '/opt/bin' },
  { from: '/usr/sbin', to: '/opt/bin' },
  { from: '/usr/games', to: '/opt/bin' },
  { from: '/bin', to: '/opt/bin' },
  { from: '/sbin', to: '/opt/bin' },
  { from: '/usr/local/share', to: '/opt/share' },
  { from: '/usr/share', to: '/opt/share' },
  { from: '/usr/local/include', to: '/opt/include' },
  { from: '/usr/include', to: '/opt/include' },
  { from: '/usr/local', to: '/opt' },
  { from: '/usr', to: '/opt' },
  { from: '/etc', to: '/opt/etc' },
  { from: '/opt', to: '/opt' },
  { from: '/var/tmp', to: STATE_ROOT },
  { from: '/var', to: STATE_ROOT },
];

const SYSTEM_DIRS = ['/boot', '/dev', '/home', '/media', '/mnt', '/proc', '/root', '/run', '/srv', '/sys', '/tmp'];

const DOC_DIRS = [
  '/usr/share/doc',
  '/usr/share/doc-base',
  '/usr/share/gtk-doc',
  '/usr/share/help',
  '/usr/share/lintian',
  '/usr/share/linda',
  '/usr/share/bug',
  '/usr/share/reportbug',
  '/usr/share/menu',
];
const MAN_DIRS = ['/usr/share/man', '/usr/share/info'];
const LOCALE_DIRS = ['/usr/share/locale', '/usr/lib/locale'];
const HEADER_DIRS = ['/usr/include', '/usr/local/include'];

function under(p: string, dir: string): boolean {
  return p === dir || p.startsWith(dir + '/');
}

function expand(prefix: string, triplet: string): string {
  return prefix.replace('{triplet}', triplet);
}

/**
 * Maps an absolute path of the original filesystem to its place once relocated, whether or not
 * the layer ships it: used for files, for symlink targets, and for paths found inside files.
 * Paths outside the relocated hierarchy (/proc, /tmp, …) map to themselves.
 */
export function relocatedAddress(p: string, triplet: string, keptState?: readonly string[]): string {
  const kept = keptStateAddress(p, keptState);
  if (kept) return kept;
  for (const r of PREFIXES) {
    const from = expand(r.from, triplet);
    if (under(p, from)) return r.to + p.slice(from.length);
  }
  return p;
}

/** The layout's prefix rules with the target's triplet filled in, longest first. */
export function layoutPrefixes(triplet: string): Array<{ from: string; to: string }> {
  return PREFIXES.map((r) => ({ from: expand(r.from, triplet), to: r.to }));
}

/** Where the layer puts a staged path, or why it leaves it out. */
export function place(p: string, opts: LayoutOptions): Placement {
  if (p === '/') return { kind: 'drop', reason: 'system' };
  if (SYSTEM_DIRS.some((d) => under(p, d))) return { kind: 'drop', reason: 'system' };
  const kept = keptStateAddress(p, opts.keptState);
  if (kept) return { kind: 'place', to: kept };
  if (under(p, '/var')) return { kind: 'drop', reason: 'state' };
  if (under(p, '/usr/lib/debug')) return { kind: 'drop', reason: 'debug' };
  if (!opts.keep.docs) {
    if (DOC_DIRS.some((d) => under(p, d))) return { kind: 'drop', reason: 'docs' };
    if (MAN_DIRS.some((d) => under(p, d))) return { kind: 'drop', reason: 'man' };
  }
  if (!opts.keep.locales && LOCALE_DIRS.some((d) => under(p, d))) return { kind: 'drop', reason: 'locale' };
  if (!opts.keep.headers && HEADER_DIRS.some((d) => under(p, d))) return { kind: 'drop', reason: 'headers' };
  if (!opts.keep.staticLibs && /\.a$/.test(p) && isLibraryPath(p, opts.triplet)) return { kind: 'drop', reason: 'static' };
  const to = relocatedAddress(p, opts.triplet);
  if (!under(to, LAYER_ROOT)) return { kind: 'drop', reason: 'system' };
  return { kind: 'place', to };
}

export function isLibraryPath(p: string, triplet: string): boolean {
  return relocatedAddress(p, triplet).startsWith('/opt/lib/');
}

/**
 * Which of two staged paths wins when both land on the same layer path: the one that comes first
 * in the rule table (/usr/lib/<triplet> over /usr/lib, /usr/bin over /bin).
 */
export function placementPriority(p: string, triplet: string): number {
  const i = PREFIXES.findIndex((r) => under(p, expand(r.from, triplet)));
  return i < 0 ? PREFIXES.length : i;
}
