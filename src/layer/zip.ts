import { crc32 } from 'node:zlib';
import yauzl from 'yauzl';
import type { ContentStore } from '../cache/content-store.js';
import { UserError } from '../util/errors.js';
import { printable } from '../util/printable.js';
import { readStream } from '../util/stream.js';
import { layerPathOf, rel, type LayerEntry } from './entries.js';
import { READ_LIMITS, UnpackBudget } from './limits.js';
import { sinkFile } from './sink.js';

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
  /** Paths whose bytes the caller wants in memory (the layer's manifest, at most READ_LIMITS.manifestBytes). */
  keep?: (path: string) => boolean;
  /** Refuse the archive once its files add up to more than this (default: Lambda's limit for the format). */
  limit?: { bytes: number; what: string };
}

export interface ArchiveContents {
  entries: LayerEntry[];
  /** Bytes of the paths `keep` asked for. */
  kept: Map<string, Buffer>;
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

const UTF8_FLAG = 0x800;
const UNICODE_PATH = 0x7075;
const utf8 = new TextDecoder('utf-8', { fatal: true });

function strictUtf8(b: Buffer): string | undefined {
  try {
    return utf8.decode(b);
  } catch {
    return undefined;
  }
}

/**
 * An entry's name from its stored bytes. The Info-ZIP Unicode Path extra field (0x7075) wins when
 * it is version 1, its CRC-32 matches the stored name (else the name was changed after it was
 * written, and the field is stale) and it is valid UTF-8. Otherwise the name is UTF-8 when the
 * flag says so, and also when its bytes are valid UTF-8 without it: Info-ZIP's `zip` stores a
 * UTF-8 file system's names as they are, with no flag and no extra field, and a real CP437 name
 * with bytes over 0x7f is almost never valid UTF-8 too. Only what is not UTF-8 is read as CP437,
 * the zip format's default. Backslashes become slashes, as yauzl does for Windows archivers.
 */
export function zipEntryName(flags: number, raw: Buffer, extraFields: ReadonlyArray<{ id: number; data: Buffer }>): string {
  const field = extraFields.find((f) => f.id === UNICODE_PATH && f.data.length >= 5 && f.data[0] === 1 && f.data.readUInt32LE(1) === crc32(raw));
  const name =
    (field && strictUtf8(field.data.subarray(5))) ?? ((flags & UTF8_FLAG) !== 0 ? raw.toString('utf8') : (strictUtf8(raw) ?? yauzl.getFileNameLowLevel(0, raw, [], true)));
  return name.replace(/\\/g, '/');
}

/** Why yauzl could not read a zip, said for a user. */
function corrupt(file: string, e: unknown): UserError {
  const why = (e as Error).message ?? String(e);
  return new UserError(`${file} is not a readable zip: ${why}`, { cause: e });
}

/**
 * Reads a layer zip with yauzl: every entry's name is checked before anything of it is read
 * (absolute names, `..`, names Linux cannot hold are refused), symlink targets are read, and file
 * contents are streamed: hashed, checked against their CRC-32, counted against Lambda's unzipped
 * limit and, given a store, written there by hash. Nothing is written under a name from the zip.
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
  const budget = new UnpackBudget(file, opts.limit ?? READ_LIMITS.zip);
  try {
    // the end record says how many entries follow: refuse a zip of millions before reading them
    if (zip.entryCount > READ_LIMITS.entries)
      throw new UserError(`${file}: ${zip.entryCount} entries, more than ${READ_LIMITS.entries}; refusing to read it`, {
        hint: 'a Lambda layer with this many files cannot be real; check where the zip came from',
      });
    for await (const e of zip.eachEntry()) {
      const name = zipEntryName(e.generalPurposeBitFlag, e.fileNameRaw as unknown as Buffer, e.extraFields);
      budget.entry(name);
      const p = layerPathOf(name, file);
      const shown = printable(name);
      const { kind, mode } = entryKind(e, name);
      if (kind === 'special') throw new UserError(`${file}: entry '${shown}' is a device or fifo; a layer holds files, directories and symlinks`);
      if (p === '/opt') continue;
      if (e.isEncrypted()) throw new UserError(`${file}: entry '${shown}' is encrypted`);
      if (kind === 'dir') {
        entries.push({ path: p, kind, mode, size: 0 });
        continue;
      }
      if (!e.canDecodeFileData()) throw new UserError(`${file}: entry '${shown}' uses compression method ${e.compressionMethod}, which cannot be read`);
      if (kind === 'symlink') {
        if (e.uncompressedSize > MAX_LINK) throw new UserError(`${file}: symlink '${printable(rel(p))}' has a ${e.uncompressedSize}-byte target`);
        const target = (await readStream(await zip.openReadStreamPromise(e), { limit: MAX_LINK, what: `${file}: symlink '${printable(rel(p))}'` })).toString('utf8');
        entries.push({ path: p, kind, mode, size: 0, target });
        continue;
      }
      // the sizes a zip declares are checked against the bytes (validateEntrySizes): refuse early
      budget.check(e.uncompressedSize, name);
      const keep = opts.keep?.(p) ?? false;
      const got = await sinkFile(await zip.openReadStreamPromise(e), { file, name, budget, store: opts.store, keep, crc32: e.crc32 });
      entries.push({ path: p, kind, mode, size: got.size, sha256: got.sha256, ...(got.hostPath ? { hostPath: got.hostPath } : {}) });
      if (got.data) kept.set(p, got.data);
    }
  } catch (e) {
    zip.close();
    if (e instanceof UserError) throw e;
    throw corrupt(file, e);
  }
  return { entries, kept };
}
