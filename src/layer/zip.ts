import { createHash } from 'node:crypto';
import yauzl from 'yauzl';
import type { ContentStore } from '../cache/content-store.js';
import { UserError } from '../util/errors.js';
import { layerPathOf, rel, type LayerEntry } from './entries.js';

const S_IFMT = 0o170000;
const S_IFREG = 0o100000;
const S_IFDIR = 0o040000;
const S_IFLNK = 0o120000;
/** "Version made by" host 3: the external attributes carry a unix st_mode in their high half. */
const UNIX_HOST = 3;
/** A symlink target longer than this is not a path. */
const MAX_LINK = 4096;

export interface ReadOptions {
  /** Store file contents here (a temporary directory); without it contents are only hashed. */
  store?: ContentStore | undefined;
  /** Paths whose bytes the caller wants in memory (the layer's manifest). */
  keep?: (path: string) => boolean;
}

export interface ArchiveContents {
  entries: LayerEntry[];
  /** Bytes of the paths `keep` asked for. */
  kept: Map<string, Buffer>;
}

async function readAll(stream: NodeJS.ReadableStream): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

/** The kind and mode an entry's attributes give it; non-unix zips fall back to the name. */
export function entryKind(e: Pick<yauzl.Entry, 'versionMadeBy' | 'externalFileAttributes'>, name: string): { kind: LayerEntry['kind'] | 'special'; mode: number } {
  const unixMode = (e.externalFileAttributes >>> 16) & 0xffff;
  if (e.versionMadeBy >> 8 === UNIX_HOST && unixMode !== 0) {
    const type = unixMode & S_IFMT;
    const mode = unixMode & 0o7777;
    if (type === S_IFLNK) return { kind: 'symlink', mode: 0o777 };
    if (type === S_IFDIR || (type === 0 && name.endsWith('/'))) return { kind: 'dir', mode };
    if (type === S_IFREG || type === 0) return { kind: 'file', mode };
    return { kind: 'special', mode };
  }
  return name.endsWith('/') ? { kind: 'dir', mode: 0o755 } : { kind: 'file', mode: 0o644 };
}

/** Why yauzl could not read a zip, said for a user. */
function corrupt(file: string, e: unknown): UserError {
  const why = (e as Error).message ?? String(e);
  return new UserError(`${file} is not a readable zip: ${why}`, { cause: e });
}

/**
 * Reads a layer zip with yauzl: every entry's name is checked before anything of it is read
 * (absolute names and `..` are refused), symlink targets are read, and file contents are hashed
 * and, given a store, written there by hash. Nothing is written under a name from the zip.
 */
export async function readZipLayer(file: string, opts: ReadOptions = {}): Promise<ArchiveContents> {
  let zip: yauzl.ZipFile;
  try {
    zip = await yauzl.openPromise(file, { lazyEntries: true, autoClose: true, decodeStrings: false, validateEntrySizes: true });
  } catch (e) {
    throw corrupt(file, e);
  }
  const entries: LayerEntry[] = [];
  const kept = new Map<string, Buffer>();
  try {
    for await (const e of zip.eachEntry()) {
      const name = yauzl.getFileNameLowLevel(e.generalPurposeBitFlag, e.fileNameRaw as unknown as Buffer, e.extraFields, false);
      const p = layerPathOf(name, file);
      const { kind, mode } = entryKind(e, name);
      if (kind === 'special') throw new UserError(`${file}: entry '${name}' is a device or fifo; a layer holds files, directories and symlinks`);
      if (p === '/opt') continue;
      if (e.isEncrypted()) throw new UserError(`${file}: entry '${name}' is encrypted`);
      if (kind === 'dir') {
        entries.push({ path: p, kind, mode, size: 0 });
        continue;
      }
      if (!e.canDecodeFileData()) throw new UserError(`${file}: entry '${name}' uses compression method ${e.compressionMethod}, which cannot be read`);
      if (kind === 'symlink') {
        if (e.uncompressedSize > MAX_LINK) throw new UserError(`${file}: symlink '${rel(p)}' has a ${e.uncompressedSize}-byte target`);
        const target = (await readAll(await zip.openReadStreamPromise(e))).toString('utf8');
        entries.push({ path: p, kind, mode, size: 0, target });
        continue;
      }
      const data = await readAll(await zip.openReadStreamPromise(e));
      const entry: LayerEntry = { path: p, kind, mode, size: data.length };
      if (opts.store) {
        const { hash, hostPath } = opts.store.put(data);
        entry.sha256 = hash;
        entry.hostPath = hostPath;
      } else {
        entry.sha256 = createHash('sha256').update(data).digest('hex');
      }
      if (opts.keep?.(p)) kept.set(p, data);
      entries.push(entry);
    }
  } catch (e) {
    zip.close();
    if (e instanceof UserError) throw e;
    throw corrupt(file, e);
  }
  return { entries, kept };
}
