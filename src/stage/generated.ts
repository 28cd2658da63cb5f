/**
 * What the packages' maintainer scripts and triggers generated at installation (stage/scripts.ts
 * runs them in a scratch root), and which of it a layer ships. Pure: the container gives lists of
 * paths and the files themselves, and everything here decides on them.
 *
 * Shipped: what the installed packages read at run time and only a script makes: TeX's formats
 * and filename databases, Java's trust store, GLib's compiled schemas, loader and module caches,
 * catalogs, the links a script makes. Not shipped: the package manager's own state and logs,
 * accounts, service state, caches that programs rebuild at run time, byte code compiled for the
 * build machine. Each exclusion says why, and the report counts them.
 */
import path from 'node:path';
import { readContent, type FileTree, type TreeEntry } from '../tree/types.js';

/** The top-level links of the scratch root (Debian 12's merged /usr: /lib → usr/lib), absolute on both sides. */
export type Aliases = ReadonlyMap<string, string>;

/** Why a generated path is not shipped, by the first rule that matches it. */
interface Exclusion {
  why: string;
  test: (p: string, e: TreeEntry) => boolean;
}

const under = (p: string, dir: string) => p === dir || p.startsWith(`${dir}/`);
const underAny = (dirs: readonly string[]) => (p: string) => dirs.some((d) => under(p, d));

/**
 * Directories of /var/lib that hold the system's or the package manager's own state, never data
 * a program of the layer reads: everything else a script generates under /var/lib is shipped
 * (TeX's /var/lib/texmf, GHC's package database, aspell's hashes, SGML catalogs).
 */
export const SYSTEM_STATE_DIRS: readonly string[] = [
  'alternatives',
  'apt',
  'dbus',
  'dhcp',
  'dnf',
  'dpkg',
  'emacsen-common',
  'logrotate',
  'misc',
  'pam',
  'polkit-1',
  'private',
  'python',
  'rpm',
  'rpm-state',
  'sudo',
  'systemd',
  'ucf',
  'yum',
].map((d) => `/var/lib/${d}`);

export const EXCLUSIONS: readonly Exclusion[] = [
  {
    why: 'package manager state',
    test: (p, e) =>
      underAny([...SYSTEM_STATE_DIRS, '/etc/alternatives', '/etc/dpkg', '/etc/ld.so.cache'])(p) ||
      // the alternatives a script registers are made as links by relocation (alternatives.ts)
      (e.kind === 'symlink' && e.target.startsWith('/etc/alternatives/')),
  },
  { why: 'logs', test: (p) => under(p, '/var/log') || p.endsWith('.log') },
  { why: 'caches (programs rebuild them at run time)', test: (p) => under(p, '/var/cache') },
  {
    why: 'accounts and machine identity',
    test: (p) => /^\/etc\/(passwd|group|shadow|gshadow|subuid|subgid)-?$/.test(p) || p === '/etc/machine-id',
  },
  {
    why: 'service state (Lambda runs no services)',
    test: (p) => underAny(['/etc/systemd', '/etc/init', '/usr/lib/systemd', '/lib/systemd'])(p) || /^\/etc\/rc[0-6S]\.d\//.test(p),
  },
  { why: 'byte code compiled for the build machine', test: (p) => p.includes('/__pycache__/') || /\.py[co]$/.test(p) },
  { why: "Java's preferences store (made by a JVM a script ran)", test: (p) => under(p, '/etc/.java') },
  { why: 'binfmt registrations (for the kernel of a machine)', test: underAny(['/usr/share/binfmts', '/var/lib/binfmts']) },
  { why: 'run-time state', test: (p) => under(p, '/var') && !under(p, '/var/lib') },
];

/** `p` spelled without the scratch root's top-level links (`/lib/x` → `/usr/lib/x`). */
export function canonicalPath(p: string, aliases: Aliases): string {
  for (const [from, to] of aliases) if (under(p, from)) return to + p.slice(from.length);
  return p;
}

/** Every spelling of `p` under the scratch root's links (`/usr/lib/x` is also `/lib/x`), `p` first. */
export function spellings(p: string, aliases: Aliases): string[] {
  const out = [p];
  const canonical = canonicalPath(p, aliases);
  if (canonical !== p) out.push(canonical);
  for (const [from, to] of aliases) if (under(canonical, to)) out.push(from + canonical.slice(to.length));
  return [...new Set(out)];
}

/** `/lib\tusr/lib` lines (find's `%p\t%l`): each link resolved against the root. */
export function parseAliases(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of text.split('\n')) {
    const [from, target] = line.split('\t');
    if (!from?.startsWith('/') || !target) continue;
    out.set(from, path.posix.resolve('/', target));
  }
  return out;
}

/** What the container listed after installing: its lines, and the scratch root's links. */
export interface InstallListing {
  /** `TYPE\tPATH` lines (find's `%y\t%p`) of every path created or changed during the installation. */
  changed: string;
  /** Paths of the planned packages' own files, one a line (dpkg -L, rpm -ql), as the packages spell them. */
  owned: string;
  /** Lines of `dpkg --verify` or `rpm -V`: package files whose content a script changed (path last). */
  modified: string;
  aliases: Aliases;
}

/**
 * The paths to copy out of the scratch root: files and links created or changed during the
 * installation that are not the packages' own files as they unpacked them. A package file a
 * script changed (its digest no longer matches) counts; directories do not (they come with the
 * files in them).
 */
export function candidatePaths(l: InstallListing): string[] {
  const owned = new Set(
    l.owned
      .split('\n')
      .filter((x) => x.startsWith('/'))
      .map((x) => canonicalPath(x, l.aliases)),
  );
  const modified = new Set<string>();
  // `??5??????   /path`, `??5?????? c /etc/x` (dpkg --verify); `S.5....T.  c /etc/x` (rpm -V)
  for (const line of l.modified.split('\n')) {
    const m = /^(\S+)\s+(?:\S\s+)?(\/.*)$/.exec(line);
    if (m && m[1]!.includes('5')) modified.add(canonicalPath(m[2]!, l.aliases));
  }
  const out: string[] = [];
  for (const line of l.changed.split('\n')) {
    const tab = line.indexOf('\t');
    if (tab < 0) continue;
    const type = line.slice(0, tab);
    const p = line.slice(tab + 1);
    if ((type !== 'f' && type !== 'l') || !p.startsWith('/')) continue;
    const c = canonicalPath(p, l.aliases);
    if (!owned.has(c) || modified.has(c)) out.push(p);
  }
  return out.sort();
}

/**
 * Databases a trigger compiles from sources that only the compiler reads: once the compiled
 * database ships, its sources are dead weight in the layer (the MIME database's XML is 2.4 MiB).
 * Programs read the compiled form (GIO and Qt read mime.cache, GSettings gschemas.compiled), and
 * nothing can recompile them in a read-only /opt. Without the scripts (--no-scripts) the database
 * is not shipped, and the sources stay.
 */
export const COMPILED_FROM: ReadonlyArray<{ database: string; sources: (p: string) => boolean }> = [
  { database: '/usr/share/mime/mime.cache', sources: (p) => /^\/usr\/share\/mime\/packages\/[^/]+\.xml$/.test(p) },
  {
    database: '/usr/share/glib-2.0/schemas/gschemas.compiled',
    sources: (p) => /^\/usr\/share\/glib-2\.0\/schemas\/[^/]+\.(gschema\.xml|gschema\.override|enums\.xml)$/.test(p),
  },
];

export const SOURCES_WHY = 'sources of the databases they compiled (programs read the compiled ones)';

export interface GeneratedSelection {
  /** Entries to add to the staged root, under the spelling the packages use, owned by the package whose directory holds them. */
  ship: TreeEntry[];
  /** Package files of the staged root that only the compiler of a shipped database reads (COMPILED_FROM): left out. */
  sources: string[];
  /** What was left out, by reason. */
  leftOut: Array<{ why: string; files: number; bytes: number; examples: string[] }>;
}

/**
 * Of what the scripts generated (`generated`, as copied out of the scratch root), what joins the
 * staged root. A file equal to the package's own (a config file ucf installed, already staged)
 * is no news; one that replaces a package file keeps the package's spelling of the path, so it
 * takes that file's place. Each shipped entry counts under the package that owns its nearest
 * directory (cacerts under ca-certificates-java, TeX's formats under tex-common).
 */
export function selectGenerated(generated: FileTree, staged: FileTree, aliases: Aliases): GeneratedSelection {
  const ship: TreeEntry[] = [];
  const left = new Map<string, GeneratedSelection['leftOut'][number]>();
  for (const e of [...generated.values()].sort((a, b) => (a.path < b.path ? -1 : 1))) {
    if (e.kind === 'dir') continue;
    const excluded = EXCLUSIONS.find((x) => spellings(e.path, aliases).some((p) => x.test(p, e)));
    if (excluded) {
      const l = left.get(excluded.why) ?? { why: excluded.why, files: 0, bytes: 0, examples: [] };
      l.files++;
      l.bytes += e.kind === 'file' ? e.size : 0;
      if (l.examples.length < 3) l.examples.push(e.path);
      left.set(excluded.why, l);
      continue;
    }
    const names = spellings(e.path, aliases);
    const own = names.find((p) => staged.get(p)?.kind === 'file' || staged.get(p)?.kind === 'symlink');
    if (own !== undefined && sameEntry(staged.get(own)!, e)) continue;
    const at = own ?? e.path;
    const pkg = owner(at, staged, aliases);
    ship.push({ ...e, path: at, ...(pkg ? { pkg } : {}) });
  }
  const sources: string[] = [];
  for (const c of COMPILED_FROM) {
    if (!ship.some((e) => e.kind === 'file' && spellings(e.path, aliases).includes(c.database))) continue;
    const found = [...staged.values()].filter((e) => e.kind === 'file' && c.sources(canonicalPath(e.path, aliases)));
    if (found.length === 0) continue;
    const l = left.get(SOURCES_WHY) ?? { why: SOURCES_WHY, files: 0, bytes: 0, examples: [] };
    for (const e of found) {
      sources.push(e.path);
      l.files++;
      l.bytes += e.kind === 'file' ? e.size : 0;
      if (l.examples.length < 3) l.examples.push(e.path);
    }
    left.set(SOURCES_WHY, l);
  }
  return { ship, sources: sources.sort(), leftOut: [...left.values()] };
}

/**
 * Directories every package shares (`/etc`, `/usr/share`, `/var/lib`, `/usr/lib/<triplet>`): the
 * package the staged root happens to record for them says nothing about who made a file there.
 */
export function sharedDirectory(d: string): boolean {
  const parts = d.split('/').filter(Boolean);
  if (parts.length <= 1) return true;
  if (parts.length === 2 && (parts[0] === 'usr' || parts[0] === 'var')) return true;
  if (parts[0] === 'usr' && parts[1] === 'local' && parts.length === 3) return true;
  return parts.length <= 3 && /-linux-gnu[a-z]*$/.test(parts[parts.length - 1]!) && parts.includes('lib');
}

/** The package of the nearest directory above `p`, not a shared one, that a package of the plan has. */
function owner(p: string, staged: FileTree, aliases: Aliases): string | undefined {
  for (let d = path.posix.dirname(p); d !== '/' && !sharedDirectory(d); d = path.posix.dirname(d)) {
    for (const s of spellings(d, aliases)) {
      const pkg = staged.get(s)?.pkg;
      if (pkg) return pkg;
    }
  }
  return undefined;
}

function sameEntry(a: TreeEntry, b: TreeEntry): boolean {
  if (a.kind !== b.kind) return false;
  if (a.kind === 'symlink' && b.kind === 'symlink') return a.target === b.target;
  if (a.kind === 'file' && b.kind === 'file') return a.size === b.size && a.mode === b.mode && readContent(a.content).equals(readContent(b.content));
  return true;
}

/**
 * The directories under /var/lib whose generated content the layer ships: data programs read at
 * run time (TeX's /var/lib/texmf), which cannot live in /tmp like other state (empty at a cold
 * start). Relocation places them, read-only, under /opt (placement.ts `keptState`).
 */
export function keptStateDirs(shipped: Iterable<TreeEntry>, aliases: Aliases = new Map()): string[] {
  const out = new Set<string>();
  for (const e of shipped) {
    if (e.kind === 'dir') continue;
    const m = /^(\/var\/lib\/[^/]+)\//.exec(canonicalPath(e.path, aliases));
    if (m) out.add(m[1]!);
  }
  return [...out].sort();
}
