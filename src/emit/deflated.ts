import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { entryState, removeEntry, unreadable } from '../cache/entry.js';
import { droppedLine } from '../cache/json-store.js';
import { sha256 } from '../util/hash.js';

/** How a zip holds one file's bytes, as the writer computed it once (zip-writer.ts). */
export type DeflatedEntry = { method: 0; crc: number } | { method: 8; crc: number; compressed: Buffer };

const MAGIC = Buffer.from('yumda-deflated-v1\n');
const HASH = /^[0-9a-f]{64}$/;

/**
 * Each file's deflated bytes by the SHA-256 of its content and the level, so a zip of a layer
 * that shares most files with one written before (a package added, an option changed, another
 * yumda) deflates only the new ones: deflate is most of what writing a zip costs (a 150 MB layer:
 * seconds on two cores), reading a stored copy a small part. Incompressible files are recorded as
 * such, so they are not deflated in vain again.
 *
 * An entry is one file: the magic, the content's SHA-256, the method, the CRC-32 of the content,
 * the deflated bytes, and the SHA-256 of all that before it. A file that does not check out is
 * dropped with one line and the content deflated anew: its bytes never reach a zip. Written
 * under a temporary name and renamed, like every other part of the cache.
 */
export class DeflatedCache {
  constructor(
    readonly dir: string,
    private readonly warn: (line: string) => void,
  ) {}

  private file(contentSha256: string, level: number): string {
    if (!HASH.test(contentSha256)) throw new Error(`deflated cache: not a sha256 digest: ${contentSha256}`);
    return path.join(this.dir, contentSha256.slice(0, 2), `${contentSha256}.${level}`);
  }

  get(contentSha256: string, level: number): DeflatedEntry | undefined {
    const f = this.file(contentSha256, level);
    const st = entryState(f);
    if ('missing' in st) return undefined;
    let problem: string | undefined;
    let entry: DeflatedEntry | undefined;
    if ('damaged' in st) problem = st.damaged;
    else {
      try {
        ({ problem, entry } = decode(readFileSync(f), contentSha256));
      } catch (e) {
        problem = unreadable(e);
      }
    }
    if (problem === undefined) return entry;
    removeEntry(f);
    this.warn(droppedLine(`the deflated copy ${f}`, problem, 'deflating the file again'));
    return undefined;
  }

  put(contentSha256: string, level: number, entry: DeflatedEntry): void {
    const f = this.file(contentSha256, level);
    const head = Buffer.alloc(5);
    head.writeUInt8(entry.method, 0);
    head.writeUInt32LE(entry.crc >>> 0, 1);
    const body = Buffer.concat([MAGIC, Buffer.from(contentSha256, 'hex'), head, entry.method === 8 ? entry.compressed : Buffer.alloc(0)]);
    const tmp = `${f}.${process.pid}-${randomBytes(6).toString('hex')}.tmp`;
    try {
      mkdirSync(path.dirname(f), { recursive: true });
      writeFileSync(tmp, Buffer.concat([body, Buffer.from(sha256(body), 'hex')]));
      renameSync(tmp, f);
    } catch {
      // a cache that cannot be written (a full disk) costs the next zip a deflate, nothing more
      rmSync(tmp, { force: true });
    }
  }
}

/** What a stored entry holds, or why it cannot be used. */
export function decode(data: Buffer, contentSha256: string): { entry?: DeflatedEntry; problem?: string } {
  const fixed = MAGIC.length + 32 + 5;
  if (data.length < fixed + 32) return { problem: `${data.length} bytes, too short to be one` };
  const body = data.subarray(0, data.length - 32);
  if (sha256(body) !== data.subarray(data.length - 32).toString('hex')) return { problem: 'its sha256 does not match its content' };
  if (!body.subarray(0, MAGIC.length).equals(MAGIC)) return { problem: 'not a deflated copy of this version' };
  if (body.subarray(MAGIC.length, MAGIC.length + 32).toString('hex') !== contentSha256) return { problem: 'the copy of another file' };
  const method = body.readUInt8(MAGIC.length + 32);
  const crc = body.readUInt32LE(MAGIC.length + 33);
  if (method === 0 && body.length === fixed) return { entry: { method: 0, crc } };
  if (method === 8) return { entry: { method: 8, crc, compressed: Buffer.from(body.subarray(fixed)) } };
  return { problem: `method ${method}` };
}
