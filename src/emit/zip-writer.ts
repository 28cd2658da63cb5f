import { createHash, type Hash } from 'node:crypto';
import { readStream } from '../util/stream.js';
import { createReadStream, createWriteStream, type WriteStream } from 'node:fs';
import os from 'node:os';
import { promisify } from 'node:util';
import zlib from 'node:zlib';
import { UserError } from '../util/errors.js';
import { sha256 } from '../util/hash.js';
import type { Content } from '../tree/types.js';
import type { DeflatedCache } from './deflated.js';

/**
 * A zip writer that compresses entries in parallel and writes them in order. Deflate is what a
 * layer build spends its time on (a 150 MB layer: seconds), and archiver/zip-stream compress
 * one entry after another on one core; here zlib's thread pool deflates several entries at once,
 * and the container format (local headers, central directory) is written around the results.
 * Deflate's output does not depend on threading, so the bytes are the same on every machine.
 */

const deflateRaw = promisify(zlib.deflateRaw);

export type ZipEntry =
  | { kind: 'dir'; name: string; mode: number }
  | { kind: 'symlink'; name: string; target: string }
  | { kind: 'file'; name: string; mode: number; size: number; content: Content };

interface Prepared {
  name: Buffer;
  method: 0 | 8;
  crc: number;
  compressed: Buffer;
  size: number;
  /** st_mode with the file type bits, as Info-ZIP stores it in the external attributes. */
  unixMode: number;
  /** MS-DOS attribute byte: 0x10 for directories. */
  dosAttr: number;
}

/** 1980-01-01 00:00:00, the earliest time a zip can record: fixed, so equal input, equal bytes. */
const DOS_TIME = 0;
const DOS_DATE = (0 << 9) | (1 << 5) | 1;
const LIMIT_32 = 0xffffffff;

/**
 * The bytes to store. Content the store verified (it has a `sha256`) is hashed again as it is read,
 * for the price of one hash beside the deflate: a file damaged since then stops the zip.
 */
async function read(content: Content): Promise<Buffer> {
  if (content.kind === 'bytes') return content.data;
  const data = await readStream(createReadStream(content.hostPath));
  if (content.sha256 && sha256(data) !== content.sha256) {
    throw new UserError(`${content.hostPath} changed while the layer was being written (its bytes no longer match its sha256); nothing written`, {
      hint: 'run the build again: the cache drops the damaged file and unpacks its package anew',
    });
  }
  return data;
}

const ZSTD_MAGIC = Buffer.from([0x28, 0xb5, 0x2f, 0xfd]);
const XZ_MAGIC = Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]);

/** Starts with a zstd frame or an xz stream header (by magic, never by name). */
export function isCompressedStream(data: Buffer): boolean {
  return data.subarray(0, 4).equals(ZSTD_MAGIC) || data.subarray(0, 6).equals(XZ_MAGIC);
}

async function prepare(e: ZipEntry, level: number, cache: DeflatedCache | undefined): Promise<Prepared> {
  const utf8 = (s: string) => Buffer.from(s, 'utf8');
  if (e.kind === 'dir') {
    return { name: utf8(e.name.endsWith('/') ? e.name : `${e.name}/`), method: 0, crc: 0, compressed: Buffer.alloc(0), size: 0, unixMode: 0o040000 | e.mode, dosAttr: 0x10 };
  }
  if (e.kind === 'symlink') {
    const data = utf8(e.target);
    return { name: utf8(e.name), method: 0, crc: zlib.crc32(data), compressed: data, size: data.length, unixMode: 0o120777, dosAttr: 0 };
  }
  const file = { name: utf8(e.name), unixMode: 0o100000 | e.mode, dosAttr: 0 };
  return { ...file, ...(await fileData(e.content, e.size, level, cache)) };
}

/** A file's bytes as the zip stores them: its deflated copy from `cache`, or deflated here (and kept there). */
async function fileData(content: Content, size: number, level: number, cache: DeflatedCache | undefined): Promise<Pick<Prepared, 'method' | 'crc' | 'compressed' | 'size'>> {
  // only content the store verified has a digest to find its deflated copy by
  const digest = cache && content.kind === 'file' ? content.sha256 : undefined;
  const known = digest ? cache!.get(digest, level, size) : undefined;
  if (known?.method === 8) return { method: 8, crc: known.crc, compressed: known.compressed, size };
  const data = await read(content);
  if (known) return { method: 0, crc: known.crc, compressed: data, size: data.length };
  const c = await compress(data, level);
  if (digest) keepCopy(cache!, digest, level, data.length, c);
  return { ...c, size: data.length };
}

/** A stored (incompressible) file's copy records only that, and its CRC: its bytes are the file's. */
function keepCopy(cache: DeflatedCache, digest: string, level: number, size: number, c: { method: 0 | 8; crc: number; compressed: Buffer }): void {
  cache.put(digest, level, size, c.method === 0 ? { method: 0, crc: c.crc } : c);
}

async function compress(data: Buffer, level: number): Promise<{ method: 0 | 8; crc: number; compressed: Buffer }> {
  // a zstd or xz stream (a packed layer's archive is one) never deflates smaller: stored without
  // trying, which was 7 s of writing Chromium's packed zip
  const deflated = data.length > 0 && !isCompressedStream(data) ? await deflateRaw(data, { level }) : undefined;
  // incompressible data (already-compressed files) is stored, as Info-ZIP's zip does
  const stored = !deflated || deflated.length >= data.length;
  return { method: stored ? 0 : 8, crc: zlib.crc32(data), compressed: stored ? data : deflated };
}

const ELF_MAGIC = Buffer.from([0x7f, 0x45, 0x4c, 0x46]);

/** The deflate level of layer zips (layerDigest names it). */
export const ZIP_LEVEL = 6;

/**
 * Deflates into `cache`, one file at a time (one core), the contents a zip about to be written
 * will likely hold, so that the zip finds their copies: a build runs this while it waits on the
 * maintainer scripts' container. Stops before the next file once `stop()` says so; returns how
 * many it deflated. Passed over: contents without a verified digest, those already in the cache,
 * and ELF files, which relocation mostly rewrites (their run path, the paths in them).
 */
export async function deflateAhead(contents: Iterable<Content>, cache: DeflatedCache, stop: () => boolean): Promise<number> {
  let n = 0;
  for (const content of contents) {
    if (stop()) break;
    if (content.kind !== 'file' || !content.sha256 || cache.has(content.sha256, ZIP_LEVEL)) continue;
    const data = await read(content);
    if (data.subarray(0, 4).equals(ELF_MAGIC)) continue;
    keepCopy(cache, content.sha256, ZIP_LEVEL, data.length, await compress(data, ZIP_LEVEL));
    n++;
  }
  return n;
}

function localHeader(p: Prepared): Buffer {
  const h = Buffer.alloc(30);
  h.writeUInt32LE(0x04034b50, 0);
  h.writeUInt16LE(p.method === 8 ? 20 : 10, 4);
  h.writeUInt16LE(0x0800, 6); // names are UTF-8
  h.writeUInt16LE(p.method, 8);
  h.writeUInt16LE(DOS_TIME, 10);
  h.writeUInt16LE(DOS_DATE, 12);
  h.writeUInt32LE(p.crc >>> 0, 14);
  h.writeUInt32LE(p.compressed.length, 18);
  h.writeUInt32LE(p.size, 22);
  h.writeUInt16LE(p.name.length, 26);
  h.writeUInt16LE(0, 28);
  return Buffer.concat([h, p.name]);
}

function centralHeader(p: Prepared, offset: number): Buffer {
  const h = Buffer.alloc(46);
  h.writeUInt32LE(0x02014b50, 0);
  h.writeUInt16LE((3 << 8) | 20, 4); // made by: UNIX, zip 2.0
  h.writeUInt16LE(p.method === 8 ? 20 : 10, 6);
  h.writeUInt16LE(0x0800, 8);
  h.writeUInt16LE(p.method, 10);
  h.writeUInt16LE(DOS_TIME, 12);
  h.writeUInt16LE(DOS_DATE, 14);
  h.writeUInt32LE(p.crc >>> 0, 16);
  h.writeUInt32LE(p.compressed.length, 20);
  h.writeUInt32LE(p.size, 24);
  h.writeUInt16LE(p.name.length, 28);
  h.writeUInt16LE(0, 30); // extra
  h.writeUInt16LE(0, 32); // comment
  h.writeUInt16LE(0, 34); // disk
  h.writeUInt16LE(0, 36); // internal attributes
  h.writeUInt32LE(((p.unixMode << 16) | p.dosAttr) >>> 0, 38);
  h.writeUInt32LE(offset, 42);
  return Buffer.concat([h, p.name]);
}

function endRecord(count: number, cdSize: number, cdOffset: number): Buffer {
  const h = Buffer.alloc(22);
  h.writeUInt32LE(0x06054b50, 0);
  h.writeUInt16LE(count, 8);
  h.writeUInt16LE(count, 10);
  h.writeUInt32LE(cdSize, 12);
  h.writeUInt32LE(cdOffset, 16);
  return h;
}

/** Waits for the stream to drain when its buffer is full (errors surface through `failed`). */
function write(out: WriteStream, digest: Hash, data: Buffer): Promise<void> {
  digest.update(data);
  return new Promise((resolve) => {
    if (out.write(data)) resolve();
    else out.once('drain', resolve);
  });
}

/**
 * Writes `entries` in their order to `file`. At most `window` entries are read and compressed
 * ahead of the one being written, which bounds memory to a few files whatever the layer's size.
 * Layers stay far below the classic zip format's limits (65,535 entries, 4 GiB); past them the
 * writer refuses rather than write zip64, which Lambda has no use for.
 */
export async function writeZip(
  file: string,
  entries: ZipEntry[],
  opts: { level?: number; window?: number; deflated?: DeflatedCache | undefined } = {},
): Promise<{ bytes: number; sha256: string }> {
  const level = opts.level ?? ZIP_LEVEL;
  const window = opts.window ?? Math.max(4, os.availableParallelism() * 2);
  if (entries.length > 0xffff) throw new UserError(`a zip holds at most 65535 entries; this layer has ${entries.length}`, { hint: 'write it with --out-dir or as an image' });
  const out = createWriteStream(file);
  const digest = createHash('sha256');
  const failed = new Promise<never>((_, reject) => out.once('error', reject));
  failed.catch(() => undefined);
  const central: Buffer[] = [];
  let offset = 0;
  const pending: Array<Promise<Prepared>> = [];
  let next = 0;
  const fill = () => {
    while (next < entries.length && pending.length < window) {
      const pr = prepare(entries[next++]!, level, opts.deflated);
      pr.catch(() => undefined); // awaited in order below; an early failure must not go unhandled
      pending.push(pr);
    }
  };
  fill();
  try {
    await writeAll();
  } catch (e) {
    out.destroy();
    throw e;
  }
  return { bytes: offset, sha256: digest.digest('hex') };

  async function writeAll(): Promise<void> {
    while (pending.length > 0) {
      const p = await Promise.race([pending.shift()!, failed]);
      fill();
      if (offset + 30 + p.name.length + p.compressed.length > LIMIT_32) {
        out.destroy();
        throw new UserError('the layer zip would exceed 4 GiB', { hint: 'write it with --out-dir or as an image' });
      }
      central.push(centralHeader(p, offset));
      const header = localHeader(p);
      await Promise.race([write(out, digest, header), failed]);
      await Promise.race([write(out, digest, p.compressed), failed]);
      offset += header.length + p.compressed.length;
    }
    const cd = Buffer.concat(central);
    await Promise.race([write(out, digest, cd), failed]);
    await Promise.race([write(out, digest, endRecord(entries.length, cd.length, offset)), failed]);
    offset += cd.length + 22;
    await Promise.race([new Promise<void>((resolve, reject) => out.end((err?: Error | null) => (err ? reject(err) : resolve()))), failed]);
  }
}
