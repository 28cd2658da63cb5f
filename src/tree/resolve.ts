/**
 * Path resolution inside a tree, as the kernel does it on the unpacked files: component by
 * component, each symlink followed where it stands (so `..` after a link climbs from where the link
 * led, not from where it was spelled). The one resolver of the project: the staged root, the layer
 * under relocation and a layer read from someone's archive all go through it, each with its
 * policy as options.
 */

/** What resolution needs of an entry: a FileTree's entries and an archive's entries both fit. */
export interface LinkNode {
  kind: 'file' | 'dir' | 'symlink';
  /** A symlink's target as stored; a link without one leads to its own directory. */
  target?: string;
}

/** What resolution needs of a tree: the entry at an absolute, normalised path. A FileTree fits. */
export interface ResolvableTree<N extends LinkNode = LinkNode> {
  get(path: string): N | undefined;
}

/** A directory the tree holds no entry for, only entries below it: unpacking creates it. */
export interface ImpliedDir {
  kind: 'dir';
  implied: true;
}

/** The link whose target took the walk somewhere, for messages that name the culprit. */
export interface LinkStep {
  link: string;
  target: string;
}

export type Resolution<N> =
  /** `entry` is undefined only for a path a partial tree does not hold. */
  | { kind: 'found'; path: string; entry: N | undefined }
  /** `path` is the first one the tree does not hold. */
  | { kind: 'dangling'; path: string }
  /** `path` is a file that the walk needed to be a directory. */
  | { kind: 'not-a-directory'; path: string }
  /** `path` is the link at which more than `maxLinks` links had been followed. */
  | { kind: 'loop'; path: string }
  /** `path` is where the walk stepped out of `confineTo`; `through` is unset when the path asked for lies outside it. */
  | { kind: 'escapes'; path: string; through?: LinkStep };

export interface ResolveOptions {
  /**
   * A directory the walk must never leave, not even to come back in (`../opt/lib` from /opt/lib
   * works only where the tree is unpacked exactly at /opt, and reaches out of any other place).
   */
  confineTo?: string;
  /** How many links one resolution may follow: Linux's MAXSYMLINKS, past which it answers ELOOP. */
  maxLinks?: number;
  /**
   * 'complete' (the default): the tree holds every path there is, so a path it lacks is dangling
   * and a file is no directory. 'partial': the tree may not be all there is (Lambda unpacks all
   * of a function's layers into one /opt; a tree may list its files but not its directories), so
   * a path it lacks, or holds a file at, may be a directory; only the tree's links are followed,
   * and the walk ends `found` with no entry where the tree has nothing.
   */
  treeIs?: 'complete' | 'partial';
}

const MAX_LINKS = 40;

interface Step {
  name: string;
  /** The link whose target this component came from; unset for the path asked for. */
  from?: LinkStep;
}

/** Resolves `path` (absolute) in `tree`; see `Resolution` for what can stop the walk. */
export function resolvePath<N extends LinkNode>(tree: ResolvableTree<N>, path: string, opts: ResolveOptions = {}): Resolution<N> {
  const maxLinks = opts.maxLinks ?? MAX_LINKS;
  const partial = opts.treeIs === 'partial';
  const confine = opts.confineTo === undefined ? undefined : components(opts.confineTo);
  const walked: string[] = [];
  // next component last, so each is a pop and a link's target is pushed in front of the rest
  const pending: Step[] = stepsOf(path, undefined);
  let lastLink: LinkStep | undefined;
  let followed = 0;
  while (pending.length > 0) {
    const { name, from } = pending.pop()!;
    if (name === '..') {
      // at the confining directory or on the way down to it, `..` goes out
      if (confine && walked.length <= confine.length) return { kind: 'escapes', path: joined(walked), ...through(from) };
      walked.pop();
      continue;
    }
    walked.push(name);
    const here = joined(walked);
    if (confine && !onTheWayIn(walked, confine)) return { kind: 'escapes', path: here, ...through(from) };
    const node = tree.get(here);
    if (node === undefined) {
      if (partial) continue;
      return { kind: 'dangling', path: here };
    }
    if (node.kind === 'symlink') {
      if (++followed > maxLinks) return { kind: 'loop', path: here };
      walked.pop();
      const target = node.target ?? '';
      lastLink = { link: here, target };
      if (target.startsWith('/')) walked.length = 0;
      pending.push(...stepsOf(target, lastLink));
      continue;
    }
    if (node.kind === 'file' && pending.length > 0 && !partial) return { kind: 'not-a-directory', path: here };
  }
  const end = joined(walked);
  // a target of `/` or of a directory above the confining one stops short of it
  if (confine && walked.length < confine.length) return { kind: 'escapes', path: end, ...through(lastLink) };
  return { kind: 'found', path: end, entry: tree.get(end) };
}

/**
 * The tree with every ancestor of an entry as a directory, as unpacking makes them: what a
 * complete resolution over a tree that lists only files and links needs. A caller may resolve
 * while it deletes entries.
 */
export function withImpliedDirs<N extends LinkNode>(tree: ReadonlyMap<string, N>): ResolvableTree<N | ImpliedDir> {
  const implied = new Set<string>();
  let seenSize = -1;
  const dir: ImpliedDir = { kind: 'dir', implied: true };
  return {
    get(path) {
      const node = tree.get(path);
      if (node) return node;
      // recomputed when the size changes, as its users add or delete entries between resolutions
      // (a move that keeps the size would go unseen)
      if (seenSize !== tree.size) {
        implied.clear();
        for (const p of tree.keys()) {
          for (let i = p.lastIndexOf('/'); i > 0 && !implied.has(p.slice(0, i)); i = p.lastIndexOf('/', i - 1)) implied.add(p.slice(0, i));
        }
        seenSize = tree.size;
      }
      return implied.has(path) ? dir : undefined;
    },
  };
}

/** The components of a path as steps, last first; empty and `.` components name nothing. */
function stepsOf(path: string, from: LinkStep | undefined): Step[] {
  return components(path)
    .reverse()
    .map((name) => (from ? { name, from } : { name }));
}

function components(path: string): string[] {
  return path.split('/').filter((c) => c !== '' && c !== '.');
}

function joined(walked: readonly string[]): string {
  return `/${walked.join('/')}`;
}

/** Inside the confining directory, or one of the directories above it that lead there. */
function onTheWayIn(walked: readonly string[], confine: readonly string[]): boolean {
  const shared = Math.min(walked.length, confine.length);
  for (let i = 0; i < shared; i++) if (walked[i] !== confine[i]) return false;
  return true;
}

function through(link: LinkStep | undefined): { through?: LinkStep } {
  return link ? { through: link } : {};
}
