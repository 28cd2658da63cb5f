/**
 * Directories compiled into binaries. Many programs do not compile in the paths of their files
 * but a bare directory (bindir, libdir, libexecdir, the prefix) and join a name to it at run
 * time, or a path relative to the prefix that they join to their own location. Those strings
 * name a directory that the runtime has too (/usr/bin, /usr/lib/<triplet>), so the path rule
 * (paths.ts) leaves them alone; this rule rewrites them when the program shows it means the
 * layer's files.
 *
 * The rule: a whole string that is exactly such a directory (`/usr`, `/usr/bin`,
 * `/usr/lib/x86_64-linux-gnu`, with or without a trailing slash) moves to its relocated address
 * when the same binary, or a library of the same package that it loads through DT_NEEDED, names
 * a file or directory that the layer ships in that directory: by its name relative to the
 * directory (`foo-helper`, `share/foo/templates`), which is how a program that joins names to a
 * directory spells them, or by a full path right in it (`/usr/lib/<triplet>/foo-1.0`). A binary
 * naming nothing of the layer in the directory (a /usr/bin used to find `env`) keeps it.
 * Libraries of other packages do not count: libcrypto naming its engines directory says nothing
 * about what a program linking it means by "/usr/".
 *
 * The trade-off: one string serves every use of it in the program. A program that joins its
 * compiled-in bindir both to its own helpers and to programs only the runtime has would, once
 * rewritten, miss the latter. Programs find the runtime's programs through PATH or full paths
 * (/bin/sh, /usr/bin/env: left alone, the layer does not ship them), and a compiled-in bindir is
 * the package's own, so the rule rewrites; each rewrite is reported with the name that caused it.
 *
 * Rewrites follow subpaths.ts: only the root component changes (`/usr/lib/x86_64-linux-gnu`
 * becomes `/opt/lib/x86_64-linux-gnu`, which a link in the layer leads to /opt/lib), so no string
 * the linker merged into the tail changes. Paths relative to the prefix
 * (`lib/x86_64-linux-gnu/gstreamer1.0`, joined by the program to its own location found with
 * dladdr, or to its prefix) keep their tail too (subpaths.ts).
 */
import path from 'node:path';
import { decodeStringSections, findExactStrings, findPathsIn, wholePathStrings, type DecodedSection, type FoundString } from '../elf/patch.js';
import type { ElfFile } from '../elf/read.js';
import { relocatedAddress } from './placement.js';
import { FILE_NAME, type BinaryRewrite, type PathMap } from './paths.js';
import { PACKAGE_PREFIX, type SubpathLink } from './subpaths.js';
import { LAYER_ROOT } from '../format/lambda.js';

/** No leading dot or slash: `../x` and `./x` are relative to the working directory. */
const RELATIVE = /^[A-Za-z0-9_+@,=][A-Za-z0-9_.+@,=\-/]*$/;

/** A rewrite of one string of one binary, in place. */
export interface DirectoryEdit {
  offset: number;
  from: string;
  to: string;
  /** The path of the layer that made the rule apply, and who named it. */
  because: string;
}

export interface DirectoryRewrite {
  file: string;
  from: string;
  to: string;
  because: string;
}

/** What one ELF file says about directories, found in one pass over its strings. */
export interface DirectoryStrings {
  /** Every path-looking string (patch.ts findPaths), which the path rule (binaries.ts) rewrites from. */
  found: FoundString[];
  /** Whole strings that are a hierarchy root. */
  bare: Array<{ offset: number; value: string; dir: string }>;
  /** Whole strings that are a path relative to the prefix, containing a slash. */
  relative: Array<{ offset: number; value: string; rel: string }>;
  /** Hierarchy roots this file names a shipped path in, with that path. */
  names: Map<string, string>;
}

/** Shipped paths by their name relative to each hierarchy root above them. */
export type NameIndex = Map<string, Array<{ root: string; path: string }>>;

export function nameIndex(paths: PathMap): NameIndex {
  const idx: NameIndex = new Map();
  for (const p of paths.shippedPaths()) {
    for (const root of paths.rootsAbove(p)) {
      const rel = p.slice(root.length + 1);
      const list = idx.get(rel) ?? [];
      list.push({ root, path: p });
      idx.set(rel, list);
    }
  }
  return idx;
}

/**
 * Plain words are everywhere in a binary for other reasons (`w` and `rb` are fopen modes; `sh`,
 * `default`, `shutdown` are words of messages, options and lists), so a single name counts as
 * evidence when it looks like a file name (FILE_NAME), or, for a bindir the binary holds bare, when
 * it is a word of four letters or more that the layer ships as a program in that directory.
 */

const stripSlashes = (s: string) => s.replace(/\/+$/, '');

/** Directories programs keep their helpers in, whose names may be plain words (`dirmngr`). */
const BINDIRS = new Set(['/usr/bin', '/usr/sbin', '/usr/libexec', '/usr/games', '/bin', '/sbin']);

/** A plain-word helper name long enough not to be a mode, an option or a word of a message. */
const PLAIN_HELPER = /^[a-z][a-z0-9]{3,}$/;

/** `qt_prfxpath=/usr`: a whole string that keeps a directory after a key (Qt's compiled-in prefix). */
const KEYED_DIRECTORY = /^([A-Za-z_][A-Za-z0-9_]*=)(\/[A-Za-z0-9_.+@,\-/]*)$/;

/**
 * The whole NUL-terminated strings of a section that are KEYED_DIRECTORY, found from each `=/`
 * (which every one holds) instead of trying a pattern at every byte: that took as long as
 * scanning the sections for paths (issue 24). A string runs from the section's start or a NUL to
 * the next NUL; one with no NUL after it inside the section is not whole.
 */
export function keyedDirectories(s: DecodedSection): Array<{ offset: number; key: string; value: string }> {
  const out: Array<{ offset: number; key: string; value: string }> = [];
  for (let at = s.text.indexOf('=/'); at >= 0; at = s.text.indexOf('=/', at + 1)) {
    const end = s.text.indexOf('\0', at);
    if (end < 0) break;
    const start = s.text.lastIndexOf('\0', at) + 1;
    const m = KEYED_DIRECTORY.exec(s.text.slice(start, end));
    if (m) out.push({ offset: s.offset + start + m[1]!.length, key: m[1]!, value: m[2]! });
    // the rest of this string cannot start another
    at = end;
  }
  return out;
}

/** One pass over a binary's strings: its bare directories, relative paths and what it names. */
export function scanDirectoryStrings(buf: Buffer, elf: ElfFile, paths: PathMap, index: NameIndex): DirectoryStrings {
  // decoded once for both patterns below
  const sections = decodeStringSections(buf, elf);
  const out: DirectoryStrings = { found: findPathsIn(sections), bare: [], relative: [], names: new Map() };
  const name = (root: string, p: string) => {
    if (!out.names.has(root)) out.names.set(root, p);
  };
  for (const f of out.found) {
    const p = stripSlashes(path.posix.normalize(f.value));
    // a full path shows the package has files in the directory right above it; deeper down it
    // says nothing about a bare /usr or /etc (a list of system directories names them too)
    const parent = path.posix.dirname(p);
    if (paths.isHierarchyRoot(parent) && paths.shippedExactly(p)) name(parent, p);
  }
  // a directory kept after a key, whole to the string's end (Qt: `qt_prfxpath=/usr`)
  for (const s of sections) {
    for (const k of keyedDirectories(s)) {
      const dir = stripSlashes(path.posix.normalize(k.value));
      if (dir && paths.isHierarchyRoot(dir)) out.bare.push({ offset: k.offset, value: k.value, dir });
    }
  }
  for (const s of wholePathStrings(buf, elf)) {
    if (!s.value.startsWith('/') && !RELATIVE.test(s.value)) continue;
    if (s.value.startsWith('/')) {
      const dir = stripSlashes(path.posix.normalize(s.value));
      if (dir && paths.isHierarchyRoot(dir)) out.bare.push({ ...s, dir });
      continue;
    }
    const rel = stripSlashes(path.posix.normalize(s.value));
    if (rel.startsWith('..')) continue;
    if (rel.includes('/') || FILE_NAME.test(rel)) for (const n of index.get(rel) ?? []) name(n.root, n.path);
    if (rel.includes('/')) out.relative.push({ ...s, rel });
  }
  // a bindir's helpers may have plain-word names (gpg's dirmngr): a whole string equal to a
  // program the layer ships in that directory counts, where the binary has the bare directory
  for (const b of out.bare) {
    if (!BINDIRS.has(b.dir) || out.names.has(b.dir)) continue;
    for (const [rel, where] of index) {
      if (!PLAIN_HELPER.test(rel)) continue;
      const shipped = where.find((w) => w.root === b.dir);
      if (shipped && findExactStrings(buf, rel, elf).length > 0) {
        name(b.dir, shipped.path);
        break;
      }
    }
  }
  return out;
}

/**
 * The rewrites of one binary, given what it and the libraries it loads (`loads`, paths of the
 * layer) name. A bare directory gets its root swapped (`/usr/lib/x86_64-linux-gnu` to
 * `/opt/lib/x86_64-linux-gnu`, which a link leads to /opt/lib); a relative path keeps every byte
 * and gets the links that make it lead to the layer's directory from the prefix. Strings that
 * cannot be served that way are returned as `cannot`.
 */
export function planDirectoryEdits(
  file: string,
  scans: Map<string, DirectoryStrings>,
  loads: readonly string[],
  paths: PathMap,
): { edits: DirectoryEdit[]; links: SubpathLink[]; cannot: Array<{ path: string; why: string }> } {
  const own = scans.get(file);
  const edits: DirectoryEdit[] = [];
  const links: SubpathLink[] = [];
  const cannot: Array<{ path: string; why: string }> = [];
  if (!own || (own.bare.length === 0 && own.relative.length === 0)) return { edits, links, cannot };
  const named = (root: string): string | undefined => {
    const p = own.names.get(root);
    if (p) return `names ${p}`;
    for (const lib of loads) {
      const q = scans.get(lib)?.names.get(root);
      if (q) return `loads ${lib}, which names ${q}`;
    }
    return undefined;
  };
  const serve = (value: string, because: string): BinaryRewrite | undefined => {
    const r = paths.inPlace(value);
    if (r.kind === 'cannot') {
      cannot.push({ path: value, why: `a directory whose files the layer ships (${because}), but ${r.why}` });
      return undefined;
    }
    links.push(...r.links);
    return r;
  };
  for (const s of own.bare) {
    const to = relocatedAddress(s.dir, paths.triplet);
    if (to === s.dir || !(to === LAYER_ROOT || to.startsWith(LAYER_ROOT + '/'))) continue;
    const because = named(s.dir);
    if (!because) continue;
    const r = serve(s.value, because);
    if (r && r.kind === 'rewrite') edits.push({ offset: s.offset, from: s.value, to: r.to, because });
  }
  for (const s of own.relative) {
    const p = `${PACKAGE_PREFIX}/${s.rel}`;
    let because: string | undefined;
    if (paths.isHierarchyRoot(p)) because = named(p);
    else if (paths.shippedExactly(p)) because = `relative to ${PACKAGE_PREFIX}, names ${p}`;
    if (!because) continue;
    const addr = relocatedAddress(p, paths.triplet);
    if (!addr.startsWith(LAYER_ROOT + '/')) continue;
    const r = serve(s.value, because);
    if (r && r.kind === 'rewrite' && r.to !== s.value) edits.push({ offset: s.offset, from: s.value, to: r.to, because });
  }
  return { edits, links, cannot };
}
