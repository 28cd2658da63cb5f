/**
 * How a path compiled into a binary moves without changing bytes another string may share.
 *
 * Linkers merge string constants by their tails: in binutils' ld, "gnu" (for --hash-style=gnu)
 * is the last three bytes of "/usr/lib/x86_64-linux-gnu", and the program has no "gnu" of its
 * own. Any byte of a path after its first component may therefore be part of another string, so
 * an in-place rewrite changes only the root component, for one of the same length (`/usr` and
 * `/etc` to `/opt`, `/var` to `/tmp`), and keeps the tail byte for byte. The tail then names the
 * distribution's sub-path under the new root (`/opt/lib/x86_64-linux-gnu/libfoo.so`), and the
 * layer makes that path real with links (`/opt/lib/x86_64-linux-gnu` → `.`): this module says
 * which. Pure.
 */
import { STATE_ROOT, layoutPrefixes, relocatedAddress } from './placement.js';
import { relativeLink } from '../tree/links.js';
import { LAYER_ROOT } from '../format/lambda.js';

/** A link the layer needs so that a path with its root swapped leads where the layout put it. */
export interface SubpathLink {
  /** Absolute path of the link in the layer. */
  link: string;
  /** Its relative target. */
  target: string;
}

/**
 * Root components that can be swapped in place, and what for (same length). A root of slashes
 * drops the component: `/var/tmp` becomes `/////tmp`, which is /tmp, its tail kept.
 */
const ROOT_SWAPS: ReadonlyArray<readonly [string, readonly string[]]> = [
  ['/usr', [LAYER_ROOT]],
  ['/etc', [LAYER_ROOT]],
  ['/var', [STATE_ROOT, '////']],
];

/**
 * `s` with its leading root component (`/usr`, `/etc`, `/var`) swapped for a same-length new
 * root, every later byte unchanged: each candidate, preferred first; [] when `s` starts with no
 * such root.
 */
export function rootSwaps(s: string): string[] {
  for (const [from, to] of ROOT_SWAPS) {
    if (s === from || s.startsWith(`${from}/`)) return to.map((r) => r + s.slice(from.length));
  }
  return [];
}

/** The preferred root swap of `s` (rootSwaps), or undefined. */
export function swapRoot(s: string): string | undefined {
  return rootSwaps(s)[0];
}

/**
 * The bytes an edit from `from` to `to` (same length) changes, as offsets: an edit that keeps
 * another string intact changes nothing past the root component.
 */
export function changedOffsets(from: string, to: string): number[] {
  const out: number[] = [];
  for (let i = 0; i < Math.max(from.length, to.length); i++) if (from[i] !== to[i]) out.push(i);
  return out;
}

/** True when `to` differs from `from` (same length) only within `from`'s root component. */
export function changesOnlyRoot(from: string, to: string): boolean {
  if (from.length !== to.length || !from.startsWith('/')) return false;
  const slash = from.indexOf('/', 1);
  const rootEnd = slash < 0 ? from.length : slash;
  return changedOffsets(from, to).every((i) => i < rootEnd);
}

/**
 * The links under which `original` (an absolute path of the staged root, normalised, no `..`),
 * with its root swapped for `newRoot` and its tail unchanged, leads to its relocated address.
 * Walks the path one component at a time: where the spelled path and the layout part ways
 * (`/opt/lib/x86_64-linux-gnu` against `/opt/lib`), a link joins them, and the walk goes on from
 * the layout's side. `collapsed`: the second component (`lib` of `/usr/lib/<triplet>`) is spelled
 * `./.`, so the walk skips it. Returns why not when the root itself would have to be a link (a
 * bare `/etc` is `/opt/etc`, and `/opt` cannot point there).
 */
export function linksToReach(original: string, triplet: string, newRoot?: string, collapsed = false): { links: SubpathLink[] } | { why: string } {
  const parts = original.split('/').filter(Boolean);
  if (parts.includes('..') || parts.includes('.')) return { why: 'the path climbs with ..' };
  const root = newRoot ?? swapRoot(`/${parts[0] ?? ''}`);
  if (parts.length === 0 || root === undefined) return { why: 'no root of the same length to swap in' };
  const links: SubpathLink[] = [];
  // `////` is the filesystem's root itself
  let reached = root.replace(/^\/+$/, '');
  for (let i = 1; i < parts.length; i++) {
    if (collapsed && i === 1) continue;
    const want = relocatedAddress(`/${parts.slice(0, i + 1).join('/')}`, triplet);
    const next = `${reached}/${parts[i]}`;
    if (next !== want) {
      // a link may live only inside the layer, and only lead to a place of the layer
      if (!next.startsWith(`${LAYER_ROOT}/`) || !(want === LAYER_ROOT || want.startsWith(`${LAYER_ROOT}/`))) {
        return { why: `with its tail kept it would name ${next}, outside the layer, not ${want}` };
      }
      links.push({ link: next, target: relativeLink(next, want) });
    }
    reached = want;
  }
  const want = relocatedAddress(`/${parts.join('/')}`, triplet);
  if (reached !== want) return { why: `its tail, kept, names ${reached}, and the layer puts it at ${want}` };
  return { links };
}

/** The prefix packages are configured with: what relative paths in their binaries start from. */
export const PACKAGE_PREFIX = '/usr';

/** Three bytes that spell `lib` away: `./.` is two components that name nothing. */
const COLLAPSED_LIB = './.';

/**
 * Every way to rewrite the path string `s` in place, preferred first, with the links each needs;
 * or why there is none. `s` is absolute, or relative to the prefix (`lib/x86_64-linux-gnu/…`, as
 * programs join to their prefix or climb to it from their own directory).
 *
 * Only first components change: the root (`/usr` to `/opt`), and `lib` of `lib/<triplet>` to
 * `./.`, which is the first component of the prefix-relative string that a linker can merge into
 * `/usr/lib/<triplet>/…`'s tail (GStreamer's relative libdir is the tail of its absolute one). The
 * layout folds `lib/<triplet>` into `lib`, one directory less: a program that climbs from its
 * library's directory by the depth of its relative libdir (`<libdir>/../..` for
 * `lib/x86_64-linux-gnu`) then lands on the layer's root, and joined to the root the collapsed
 * path names `<root>/<triplet>/…`, which a link leads to lib.
 */
export function inPlacePlans(s: string, triplet: string): Array<{ to: string; links: SubpathLink[] }> | { why: string } {
  const relative = !s.startsWith('/');
  if (s.split('/').includes('..')) return { why: "it climbs with .., which the layer's links would resolve differently" };
  const absolute = relative ? `${PACKAGE_PREFIX}/${s}` : s;
  const normal = absolute.split('/').filter((c) => c !== '' && c !== '.');
  const original = `/${normal.join('/')}`;
  const rootEnd = absolute.indexOf('/', 1) < 0 ? absolute.length : absolute.indexOf('/', 1);
  const roots = rootSwaps(absolute).map((r) => r.slice(0, rootEnd));
  if (roots.length === 0) return { why: 'its root has no same-length counterpart in the layer' };
  // where `lib` of lib/<triplet> starts in `s`, when it is spelled plainly there
  const libAt = relative ? 0 : rootEnd + 1;
  const collapsible = normal[1] === 'lib' && normal[2] === triplet && s.slice(libAt, libAt + 4) === 'lib/';
  const plans: Array<{ to: string; links: SubpathLink[] }> = [];
  let why = '';
  for (const root of relative ? [LAYER_ROOT] : roots) {
    const swapped = relative ? s : root + s.slice(rootEnd);
    for (const collapse of collapsible ? [true, false] : [false]) {
      const reach = linksToReach(original, triplet, root, collapse);
      if ('why' in reach) {
        why ||= reach.why;
        continue;
      }
      const to = collapse ? swapped.slice(0, libAt) + COLLAPSED_LIB + swapped.slice(libAt + 3) : swapped;
      plans.push({ to, links: reach.links });
    }
  }
  return plans.length > 0 ? plans : { why };
}

/**
 * The distribution's sub-paths a layer keeps reachable: for each directory the layout folds into
 * another (`/usr/lib/<triplet>` into `/opt/lib`, `/usr/sbin` into `/opt/bin`, `/usr/local` into
 * `/opt`), the links that make the unfolded path lead to the folded one, when the layer ships
 * something from there. Programs derive paths from their prefix plus parts of compiled-in ones
 * (prefix + `lib/x86_64-linux-gnu/<name>`); these links serve them as they serve swapped roots.
 */
export function distributionLinks(placedFrom: Iterable<string>, triplet: string): SubpathLink[] {
  const folded = layoutPrefixes(triplet).filter(({ from, to }) => swapRoot(from) !== undefined && from.startsWith('/usr') && swapRoot(from) !== to);
  const used = new Set<string>();
  for (const p of placedFrom) {
    for (const { from } of folded) if (p === from || p.startsWith(`${from}/`)) used.add(from);
  }
  const out = new Map<string, SubpathLink>();
  for (const from of [...used].sort()) {
    const r = linksToReach(from, triplet);
    if ('links' in r) for (const l of r.links) out.set(l.link, l);
  }
  // programs that take their prefix from where they run and append the last component of their
  // libdir look in <prefix>/<triplet>
  if (used.has(`/usr/lib/${triplet}`)) out.set(`${LAYER_ROOT}/${triplet}`, { link: `${LAYER_ROOT}/${triplet}`, target: 'lib' });
  return [...out.values()].sort((a, b) => a.link.localeCompare(b.link));
}
