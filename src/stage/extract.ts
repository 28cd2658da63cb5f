import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import tar from 'tar-stream';
import { normalizeAbsolute } from '../util/paths.js';
import { readStream } from '../util/stream.js';
import { UserError } from '../util/errors.js';
import { formatBytes } from '../util/format.js';
import { printable } from '../util/printable.js';
import type { FileTree, TreeEntry } from '../tree/types.js';
import type { ContentStore } from '../cache/content-store.js';

/** The most a staging record (a package's alternatives or ucf calls) may hold. */
const META_BYTES = 16 * 1024 * 1024;

/** Where an archive entry belongs: a path in one of several trees, a metadata file, or nowhere. */
export type Route = { tree: string; path: string } | { meta: string } | undefined;

/**
 * The largest file staging takes: what the output could ever ship (stage/limits.ts). A larger
 * entry is refused by its header, before a byte of it is read.
 */
export interface FileLimit {
  bytes: number;
  /** What the limit is, for the message: "a layer can hold (N bytes, …)". */
  what: string;
  hint?: string;
}

export interface ExtractedArchive {
  trees: Map<string, FileTree>;
  /** Small text files (file lists, recorded alternatives), by name. */
  meta: Map<string, string>;
}

/**
 * Reads a tar stream (as the Docker archive API returns it) into trees whose file contents go to
 * the content store. Entries that would climb out of their root (`..`) are refused.
 */
export async function extractTar(
  stream: Readable,
  store: ContentStore,
  route: (name: string) => Route,
  limit?: FileLimit,
  /** The package a tree's files belong to, for messages (trees are named after packages). */
  owner: (tree: string) => string = (tree) => tree,
): Promise<ExtractedArchive> {
  const trees = new Map<string, FileTree>();
  const meta = new Map<string, string>();
  const extract = tar.extract();
  const treeOf = (k: string) => {
    const t = trees.get(k) ?? new Map();
    trees.set(k, t);
    return t;
  };
  let failure: unknown;
  extract.on('entry', (header, body, next) => {
    // a failure destroys the extractor, and with it this entry's body: its error is the same one,
    // already on its way to the caller through the pipeline
    body.on('error', () => undefined);
    const handle = async (): Promise<void> => {
      const name = header.name.replace(/^\.\//, '');
      if (name.split('/').includes('..')) throw new Error(`archive entry climbs out of its root: ${header.name}`);
      const where = route(name);
      if (!where) {
        body.resume();
        return;
      }
      if ('meta' in where) {
        // what the shims recorded from maintainer scripts: a few lines; a script could write on and on
        const data = await readStream(body, { limit: META_BYTES, what: `the staging record ${printable(where.meta)}` });
        if (header.type === 'file') meta.set(where.meta, data.toString('utf8'));
        return;
      }
      const p = normalizeAbsolute(where.path);
      if (p === '/') {
        body.resume();
        return;
      }
      checkName(owner(where.tree), p, header.type === 'symlink' ? (header.linkname ?? '') : undefined);
      const tree = treeOf(where.tree);
      const mode = (header.mode ?? 0o644) & 0o7777;
      let entry: TreeEntry | undefined;
      switch (header.type) {
        case 'file':
        case 'contiguous-file': {
          if (limit) checkFileSize(owner(where.tree), p, header.size ?? 0, limit);
          const { hash, hostPath, size } = await store.writeStream(body);
          entry = { kind: 'file', path: p, mode, size, content: { kind: 'file', hostPath, sha256: hash } };
          break;
        }
        case 'link': {
          body.resume();
          const target = route((header.linkname ?? '').replace(/^\.\//, ''));
          const linked = target && 'tree' in target ? trees.get(target.tree)?.get(normalizeAbsolute(target.path)) : undefined;
          if (linked?.kind === 'file') entry = { ...linked, path: p };
          break;
        }
        case 'symlink':
          body.resume();
          entry = { kind: 'symlink', path: p, target: header.linkname ?? '' };
          break;
        case 'directory':
          body.resume();
          entry = { kind: 'dir', path: p, mode };
          break;
        default:
          // a FIFO or a device: a layer (a zip) holds files, directories and symlinks, and dropping
          // it would change the package silently
          throw new UserError(
            `package ${owner(where.tree)}: ${shownPath(p)} is ${SPECIAL[header.type ?? ''] ?? `a tar member of type '${header.type}'`}; a layer holds only files, directories and symlinks, so it cannot be shipped`,
            { hint: 'leave the package out, or ask its maintainer' },
          );
      }
      if (entry) tree.set(p, entry);
    };
    handle().then(
      () => next(),
      (e) => {
        failure ??= e;
        extract.destroy(e as Error);
      },
    );
  });
  // pipeline, not pipe: a failure on either side (a full disk under the content store) destroys
  // the other, so the engine's archive response is closed instead of holding the process open
  try {
    await pipeline(stream, extract as unknown as NodeJS.WritableStream);
  } catch (e) {
    // a failure while an entry was being written (a full disk) ends its body early, and the
    // extractor reports that as a premature close: the failure itself is what to say
    throw failure ?? e;
  }
  return { trees, meta };
}

const SPECIAL: Record<string, string> = {
  fifo: 'a FIFO (named pipe)',
  'character-device': 'a character device',
  'block-device': 'a block device',
};

/** A staged path for a message: control characters escaped, and U+FFFD spelled out. */
function shownPath(p: string): string {
  return printable(p).replace(/\uFFFD/g, '\\ufffd');
}

/**
 * Refuses a name (or a symlink target) that would reach the layer changed. The Docker engine's
 * archive (and tar's, read as UTF-8) hands over a name that is not valid UTF-8 with U+FFFD in
 * place of its bytes: two such names of one directory become one, and a zip, which names files in
 * UTF-8, could not hold the original anyway. A real U+FFFD in a package's file name is refused
 * too: the two cannot be told apart here.
 */
export function checkName(pkg: string, p: string, target?: string): void {
  const bad = p.includes('\uFFFD') ? p : target?.includes('\uFFFD') ? target : undefined;
  if (bad === undefined) return;
  const what = bad === p ? shownPath(p) : `the target of ${shownPath(p)} (${shownPath(bad)})`;
  throw new UserError(
    `package ${pkg}: ${what} is not valid UTF-8 (its bytes arrive as U+FFFD); a layer names its files in UTF-8, so it would ship under another name (two such names as one)`,
    { hint: 'leave the package out, or ask its maintainer' },
  );
}

/** Refuses a file of package `pkg` larger than the limit, in one line naming both and the size. */
export function checkFileSize(pkg: string, file: string, size: number, limit: FileLimit): void {
  if (size <= limit.bytes) return;
  throw new UserError(`package ${pkg}: ${printable(file)} is ${size} bytes (${formatBytes(size)}), more than ${limit.what}; refusing to unpack it`, {
    ...(limit.hint ? { hint: limit.hint } : {}),
  });
}

/** Routes `<base>/pkgs/<package>/<path>` to that package's tree and `<base>/meta/<file>` to meta. */
export function packageRoute(base: string): (name: string) => Route {
  return (name) => {
    if (name.startsWith(`${base}/meta/`)) return { meta: name.slice(base.length + '/meta/'.length) };
    // [^] and not .: a file name may hold a newline, and `.` stops there (the file was dropped)
    const m = new RegExp(`^${base}/pkgs/([^/]+)(/[^]*)?$`).exec(name);
    if (m) return { tree: m[1]!, path: m[2] ?? '/' };
    return undefined;
  };
}
