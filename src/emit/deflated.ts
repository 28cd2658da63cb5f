import { randomBytes } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { entryState, removeEntry, unreadable } from '../cache/entry.js';
import { droppedLine } from '../cache/json-store.js';
import { sha256 } from '../util/hash.js';
import { processAlive } from '../util/owner.js';

/** How a zip holds one file's bytes, as the writer computed it once (zip-writer.ts). */
export type DeflatedEntry = { method: 0; crc: number } | { method: 8; crc: number; compressed: Buffer };

const MAGIC = Buffer.from('yumda-deflated-v2\n');
/** zlib's version, in each copy's name: another zlib may deflate the same bytes differently, and a zip's bytes must not depend on what the cache holds. */
const ZLIB = (process.versions.zlib ?? 'unknown').replace(/[^0-9A-Za-z.-]/g, '_');
/** magic, content digest, method, CRC-32, size */
const FIXED = MAGIC.length + 32 + 1 + 4 + 4;
const HASH = /^[0-9a-f]{64}$/;

/** The deflated copies kept beside the finished zips (CachePaths.zips). */
export function deflatedCacheIn(zipsDir: string, warn: (line: string) => void): DeflatedCache {
  return new DeflatedCache(path.join(zipsDir, 'deflated'), warn);
}

/**
 * Each file's deflated bytes by the SHA-256 of its content and the level, so a zip of a layer
 * that shares most files with one written before (a package added, an option changed, another
 * yumda) deflates only the new ones: deflate is most of what writing a zip costs (a 150 MB layer:
 * seconds on two cores), reading a stored copy a small part. Incompressible files are recorded as
 * such, so they are not deflated in vain again.
 *
 * An entry is one file: the magic, the content's SHA-256, the method, the CRC-32 and size of the
 * content, the deflated bytes, and the SHA-256 of all that before it. A file that does not check
 * out (or holds another size than the entry it is asked for) is dropped with one line and the
 * content deflated anew: its bytes never reach a zip. Written under a temporary name in .tmp/ and
 * renamed, like every other part of the cache; what a killed build left there goes with the next.
 */
export class DeflatedCache {
  private readonly tmpDir: string;

  constructor(
    readonly dir: string,
    private readonly warn: (line: string) => void,
  ) {
    this.tmpDir = path.join(dir, '.tmp');
    removeDeadWriters(this.tmpDir);
  }

  private file(contentSha256: string, level: number): string {
    if (!HASH.test(contentSha256)) throw new Error(`deflated cache: not a sha256 digest: ${contentSha256}`);
    return path.join(this.dir, contentSha256.slice(0, 2), `${contentSha256}.${level}.zlib-${ZLIB}`);
  }

  /** Whether a copy of the content with this digest is there (not checked: `get` does that). */
  has(contentSha256: string, level: number): boolean {
    return !('missing' in entryState(this.file(contentSha256, level)));
  }

  /** The copy of the content with this digest and `size`, or undefined (none, or dropped as damaged). */
  get(contentSha256: string, level: number, size: number): DeflatedEntry | undefined {
    const f = this.file(contentSha256, level);
    const st = entryState(f);
    if ('missing' in st) return undefined;
    let problem: string | undefined;
    let entry: DeflatedEntry | undefined;
    if ('damaged' in st) problem = st.damaged;
    else {
      try {
        ({ problem, entry } = decode(readFileSync(f), contentSha256, size));
      } catch (e) {
        problem = unreadable(e);
      }
    }
    if (problem === undefined) return entry;
    removeEntry(f);
    this.warn(droppedLine(`the deflated copy ${f}`, problem, 'deflating the file again'));
    return undefined;
  }

  put(contentSha256: string, level: number, size: number, entry: DeflatedEntry): void {
    const f = this.file(contentSha256, level);
    const head = Buffer.alloc(9);
    head.writeUInt8(entry.method, 0);
    head.writeUInt32LE(entry.crc >>> 0, 1);
    head.writeUInt32LE(size, 5);
    const body = Buffer.concat([MAGIC, Buffer.from(contentSha256, 'hex'), head, entry.method === 8 ? entry.compressed : Buffer.alloc(0)]);
    const tmp = path.join(this.tmpDir, `${process.pid}-${randomBytes(6).toString('hex')}`);
    try {
      mkdirSync(this.tmpDir, { recursive: true });
      mkdirSync(path.dirname(f), { recursive: true });
      writeFileSync(tmp, Buffer.concat([body, Buffer.from(sha256(body), 'hex')]));
      renameSync(tmp, f);
    } catch {
      // a cache that cannot be written (a full disk) costs the next zip a deflate, nothing more
      rmSync(tmp, { force: true });
    }
  }
}

/** Removes the temporaries of writers that no longer run (a build killed mid-zip). */
function removeDeadWriters(tmpDir: string): void {
  let names: string[];
  try {
    names = readdirSync(tmpDir);
  } catch {
    return;
  }
  for (const n of names) {
    const pid = Number(/^(\d+)-[0-9a-f]+$/.exec(n)?.[1]);
    if (pid && pid !== process.pid && !processAlive(pid)) rmSync(path.join(tmpDir, n), { force: true });
  }
}

/** What a stored entry holds, or why it cannot be used for content of this digest and size. */
export function decode(data: Buffer, contentSha256: string, size: number): { entry?: DeflatedEntry; problem?: string } {
  if (data.length < FIXED + 32) return { problem: `${data.length} bytes, too short to be one` };
  const body = data.subarray(0, data.length - 32);
  if (sha256(body) !== data.subarray(data.length - 32).toString('hex')) return { problem: 'its sha256 does not match its content' };
  if (!body.subarray(0, MAGIC.length).equals(MAGIC)) return { problem: 'not a deflated copy of this version' };
  if (body.subarray(MAGIC.length, MAGIC.length + 32).toString('hex') !== contentSha256) return { problem: 'the copy of another file' };
  const method = body.readUInt8(MAGIC.length + 32);
  const crc = body.readUInt32LE(MAGIC.length + 33);
  const stored = body.readUInt32LE(MAGIC.length + 37);
  if (stored !== size) return { problem: `the copy of ${stored} bytes, not ${size}` };
  if (method === 0 && body.length === FIXED) return { entry: { method: 0, crc } };
  if (method === 8) return { entry: { method: 8, crc, compressed: Buffer.from(body.subarray(FIXED)) } };
  return { problem: `method ${method}` };
}
