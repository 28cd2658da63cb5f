import { bytes, contains, readContent, type Content, type FileTree } from '../tree/types.js';
import { LAYER_ROOT } from '../format/lambda.js';

/**
 * A packed layer's tree runs from /tmp, not /opt. Relocation already rewrote every path the
 * packages had compiled in or written down to its /opt address; `/tmp` is exactly as long as
 * `/opt`, so moving those addresses to /tmp is one same-length substitution, in binaries as in
 * text, and every rule relocation applied (directories, RUNPATH, wrappers, recipes' rewrites)
 * carries over without a second relocator. Only addresses of the tree itself move: `/opt/<name>`
 * for the tree's top-level names, and a bare `/opt` (the prefix directories rewrite to). A
 * package's own mention of another /opt directory (`/opt/google`) stays.
 */

export const PACKED_ROOT = '/tmp';

export interface RetargetReport {
  /** Files whose contents changed, and how many addresses each had. */
  files: Array<{ path: string; count: number }>;
  /** Symlinks whose absolute target moved. */
  links: string[];
}

const PATH_BYTE = /[A-Za-z0-9_.+~-]/;

function isPathByte(b: number | undefined): boolean {
  return b !== undefined && PATH_BYTE.test(String.fromCharCode(b));
}

/** Offsets of the tree's /opt addresses in `buf` (see the module comment). */
export function treeAddresses(buf: Buffer, topLevel: ReadonlySet<string>): number[] {
  const at: number[] = [];
  const needle = Buffer.from(LAYER_ROOT);
  const slash = 0x2f;
  for (let i = buf.indexOf(needle); i >= 0; i = buf.indexOf(needle, i + needle.length)) {
    const before = i > 0 ? buf[i - 1] : undefined;
    // a file:// URL's path counts (relocation rewrote LibreOffice's file:///usr/lib/libreoffice)
    const fileUrl = i >= 7 && buf.toString('latin1', i - 7, i) === 'file://';
    if (!fileUrl && (isPathByte(before) || before === slash)) continue;
    let j = i + needle.length;
    if (buf[j] === slash) {
      let k = j + 1;
      while (k < buf.length && isPathByte(buf[k])) k++;
      const name = buf.toString('latin1', j + 1, k);
      if (name.length > 0) {
        if (topLevel.has(name)) at.push(i);
        continue;
      }
      while (buf[j] === slash) j++;
    }
    // a bare /opt, /opt/ or /opt///: the prefix itself
    if (!isPathByte(buf[j])) at.push(i);
  }
  return at;
}

/** The top-level names of a layer tree: what the packed tree has directly under its root. */
export function topLevelNames(tree: FileTree, root = LAYER_ROOT): string[] {
  const names = new Set<string>();
  for (const p of tree.keys()) {
    if (!p.startsWith(`${root}/`)) continue;
    names.add(p.slice(root.length + 1).split('/')[0]!);
  }
  return [...names].sort();
}

/**
 * Moves the tree's addresses from /opt to /tmp in every file and absolute symlink. The tree keeps
 * its /opt keys (it is archived relative to its root); `save` stores rewritten contents.
 */
export function retargetTree(tree: FileTree, save: (data: Buffer) => Content = bytes): { tree: FileTree; report: RetargetReport } {
  const top = new Set(topLevelNames(tree));
  const out: FileTree = new Map();
  const report: RetargetReport = { files: [], links: [] };
  const to = Buffer.from(PACKED_ROOT);
  for (const [p, e] of tree) {
    if (e.kind === 'symlink') {
      const moved = e.target.startsWith('/') ? retargetString(e.target, top) : e.target;
      if (moved !== e.target) report.links.push(p);
      out.set(p, moved === e.target ? e : { ...e, target: moved });
      continue;
    }
    if (e.kind !== 'file') {
      out.set(p, e);
      continue;
    }
    // read whole only what names /opt at all: most of a big tree's bytes are data
    if (!contains(e.content, LAYER_ROOT)) {
      out.set(p, e);
      continue;
    }
    const buf = readContent(e.content);
    const at = treeAddresses(buf, top);
    if (at.length === 0) {
      out.set(p, e);
      continue;
    }
    const copy = Buffer.from(buf);
    for (const i of at) to.copy(copy, i);
    report.files.push({ path: p, count: at.length });
    out.set(p, { ...e, content: save(copy) });
  }
  return { tree: out, report };
}

/** `retargetTree`'s substitution on one string (a link target, an environment value). */
export function retargetString(s: string, topLevel: ReadonlySet<string>): string {
  const buf = Buffer.from(s);
  const at = treeAddresses(buf, topLevel);
  for (const i of at) Buffer.from(PACKED_ROOT).copy(buf, i);
  return buf.toString();
}
