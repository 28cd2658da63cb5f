import { createHash, randomBytes } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import path from 'node:path';
import { crc32 } from 'node:zlib';
import type { ContentStore } from '../cache/content-store.js';
import { UserError } from '../util/errors.js';
import { printable } from '../util/printable.js';
import { READ_LIMITS, type UnpackBudget } from './limits.js';

export interface SunkFile {
  size: number;
  sha256: string;
  hostPath?: string;
  /** The bytes, when the caller asked to keep them (the layer manifest). */
  data?: Buffer;
}

export interface SinkOptions {
  /** The archive, for messages. */
  file: string;
  /** The entry's name as the archive gives it, for messages. */
  name: string;
  budget: UnpackBudget;
  store?: ContentStore | undefined;
  /** Keep the bytes in memory (up to READ_LIMITS.manifestBytes). */
  keep?: boolean;
  /** The CRC-32 the archive records for the entry (zip); checked once the last byte is read. */
  crc32?: number;
}

/**
 * Reads one file of an archive as a stream, never whole in memory: hashes it, checks its CRC-32,
 * counts it against the budget and, given a store, writes it to a temporary file there that is
 * renamed to its hash only once every check passed. A corrupt or oversized entry leaves nothing.
 */
export async function sinkFile(stream: AsyncIterable<unknown>, opts: SinkOptions): Promise<SunkFile> {
  const sha = createHash('sha256');
  let crc = 0;
  let size = 0;
  const kept: Buffer[] | undefined = opts.keep ? [] : undefined;
  let tmp: string | undefined;
  let fd: number | undefined;
  if (opts.store) {
    tmp = path.join(opts.store.dir, `.in-${process.pid}-${randomBytes(6).toString('hex')}.tmp`);
    fd = openSync(tmp, 'wx', 0o600);
  }
  try {
    for await (const c of stream) {
      const chunk = c as Buffer;
      size += chunk.length;
      opts.budget.add(chunk.length, opts.name);
      sha.update(chunk);
      if (opts.crc32 !== undefined) crc = crc32(chunk, crc);
      if (kept) {
        if (size > READ_LIMITS.manifestBytes)
          throw new UserError(`${opts.file}: entry '${printable(opts.name)}' is larger than ${READ_LIMITS.manifestBytes} bytes; a layer manifest is far smaller`);
        kept.push(chunk);
      }
      if (fd !== undefined) writeSync(fd, chunk);
    }
    if (opts.crc32 !== undefined && crc >>> 0 !== opts.crc32 >>> 0) {
      throw new UserError(`${opts.file}: entry '${printable(opts.name)}' is corrupt: its CRC-32 is ${hex(crc)}, the zip records ${hex(opts.crc32)} (refusing the layer)`, {
        hint: 'download or build it again',
      });
    }
    const sha256 = sha.digest('hex');
    const out: SunkFile = { size, sha256, ...(kept ? { data: Buffer.concat(kept) } : {}) };
    if (fd !== undefined) {
      closeSync(fd);
      fd = undefined;
      const dest = opts.store!.pathOf(sha256);
      if (existsSync(dest)) rmSync(tmp!);
      else {
        mkdirSync(path.dirname(dest), { recursive: true });
        renameSync(tmp!, dest);
      }
      tmp = undefined;
      out.hostPath = dest;
    }
    return out;
  } finally {
    if (fd !== undefined) closeSync(fd);
    if (tmp !== undefined) rmSync(tmp, { force: true });
  }
}

const hex = (n: number) => (n >>> 0).toString(16).padStart(8, '0');
