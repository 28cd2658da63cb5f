import { createHash, randomBytes } from 'node:crypto';
import { closeSync, promises as fs, mkdirSync, openSync, readSync, renameSync, rmSync, writeSync } from 'node:fs';
import { entryState, removeEntry, unreadable } from './entry.js';
import path from 'node:path';
import type { Content } from '../tree/types.js';
import { writeFileAtomicSync } from '../util/atomic.js';
import { sha256 } from '../util/hash.js';
import { processAlive } from '../util/owner.js';

/** Why a stored file cannot be used: gone (cleaned away), or its bytes are not its name's. */
export type ContentProblem = { missing: true } | { damaged: string };

const HASH = /^[0-9a-f]{64}$/;

/**
 * File contents by SHA-256, on the host's disk. Staged trees reference it instead of holding bytes
 * in memory, and equal files (across packages, builds and targets) are stored once. Writes go to
 * a temporary name and are renamed, so concurrent builds sharing a store never see partial files.
 *
 * A file's name is a claim, not a fact: a disk, a copy or a hand can change its bytes. Nothing is
 * handed out as verified (`Content.sha256`) before this process wrote it or hashed it, once.
 */
export class ContentStore {
  private readonly verified = new Set<string>();

  constructor(readonly dir: string) {
    mkdirSync(dir, { recursive: true });
  }

  pathOf(hash: string): string {
    if (!HASH.test(hash)) throw new Error(`content store: not a sha256 digest: ${hash}`);
    return path.join(this.dir, hash.slice(0, 2), hash);
  }

  /** Stores `data` (again, when the stored copy is missing or damaged). */
  put(data: Buffer): { hash: string; hostPath: string } {
    const hash = sha256(data);
    const dest = this.pathOf(hash);
    const problem = this.verified.has(hash) ? undefined : this.check(hash, data.length);
    if (problem !== undefined) {
      if ('damaged' in problem) removeEntry(dest);
      mkdirSync(path.dirname(dest), { recursive: true });
      writeFileAtomicSync(dest, data);
      this.verified.add(hash);
    }
    return { hash, hostPath: dest };
  }

  /**
   * Stores what `chunks` yields without holding it in memory: hashed while it is written to a
   * temporary file in the store, which is renamed to its hash once complete (over a copy that is
   * missing or damaged; a verified one stays and the temporary goes). `onChunk` sees each chunk
   * before it is written, and may throw to stop (a size limit): nothing is left then.
   */
  async writeStream(chunks: AsyncIterable<unknown>, onChunk?: (chunk: Buffer) => void): Promise<{ hash: string; hostPath: string; size: number }> {
    const tmp = path.join(this.dir, `.stream.yumda-${process.pid}-${randomBytes(6).toString('hex')}.tmp`);
    const fd = openSync(tmp, 'wx', 0o600);
    let open = true;
    try {
      const h = createHash('sha256');
      let size = 0;
      for await (const c of chunks) {
        const chunk = c as Buffer;
        onChunk?.(chunk);
        h.update(chunk);
        for (let at = 0; at < chunk.length; ) at += writeSync(fd, chunk, at);
        size += chunk.length;
      }
      closeSync(fd);
      open = false;
      const hash = h.digest('hex');
      const dest = this.pathOf(hash);
      if (this.verified.has(hash)) rmSync(tmp, { force: true });
      else {
        mkdirSync(path.dirname(dest), { recursive: true });
        renameSync(tmp, dest);
        this.verified.add(hash);
      }
      return { hash, hostPath: dest, size };
    } catch (e) {
      if (open) closeSync(fd);
      rmSync(tmp, { force: true });
      throw e;
    }
  }

  /** `put`, as the tree's content reference. */
  save(data: Buffer): Content {
    const { hash, hostPath } = this.put(data);
    return { kind: 'file', hostPath, sha256: hash };
  }

  /**
   * The stored file as verified content, or what is wrong with it. Hashing costs about 1 GB/s,
   * a small part of what deflating the same bytes into a zip costs; each file is hashed once per
   * process whatever the number of trees that reference it.
   */
  get(hash: string, size: number): Content | ContentProblem {
    const problem = this.verified.has(hash) ? undefined : this.check(hash, size);
    if (problem) return problem;
    this.verified.add(hash);
    return { kind: 'file', hostPath: this.pathOf(hash), sha256: hash };
  }

  /** Removes a damaged entry (whatever it is), so the next `put` of its bytes writes it anew. */
  drop(hash: string): void {
    this.verified.delete(hash);
    removeEntry(this.pathOf(hash));
  }

  private check(hash: string, size: number): ContentProblem | undefined {
    const file = this.pathOf(hash);
    const st = entryState(file);
    if (!('size' in st)) return st;
    if (st.size !== size) return { damaged: `${st.size} bytes instead of ${size}` };
    let digest: string;
    try {
      digest = hashFile(file);
    } catch (e) {
      return { damaged: unreadable(e) };
    }
    if (digest !== hash) return { damaged: `its sha256 is ${digest.slice(0, 12)}…, not ${hash.slice(0, 12)}…` };
    return undefined;
  }
}

/**
 * One read buffer for every hashFile: a warm build verifies hundreds of files, and a MiB allocated
 * for each was a fifth of its time in allocation and garbage collection (hashFile is synchronous,
 * so no two calls share it at once).
 */
let readBuffer: Buffer | undefined;

/** The SHA-256 of a file, read a MiB at a time: stored files may be as large as a layer allows. */
function hashFile(file: string): string {
  const h = createHash('sha256');
  readBuffer ??= Buffer.allocUnsafe(1024 * 1024);
  const buf = readBuffer;
  const fd = openSync(file, 'r');
  try {
    for (;;) {
      const n = readSync(fd, buf, 0, buf.length, null);
      if (n === 0) break;
      h.update(buf.subarray(0, n));
    }
  } finally {
    closeSync(fd);
  }
  return h.digest('hex');
}

/**
 * Removes the store's temporary files whose writer is this process (a write that failed: a full
 * disk) or a process that no longer runs (a build killed with kill -9). This process's own are
 * only ever in flight while staging streams, and this runs before and after that, never during;
 * other live builds' are left alone.
 */
export async function removeStaleTemporaries(dir: string): Promise<number> {
  // `.<hash>.yumda-<pid>-<rand>.tmp` (temporarySibling) and the older `<hash>.<pid>.<rand>.tmp`
  const TMP = /^(?:\.[0-9a-f]{64}\.yumda-(\d+)-|[0-9a-f]{64}\.(\d+)\.)[0-9a-f]+\.tmp$/;
  let removed = 0;
  const STREAM = /^\.stream\.yumda-(\d+)-[0-9a-f]+\.tmp$/;
  const subdirs = await fs.readdir(dir).catch(() => [] as string[]);
  for (const n of subdirs) {
    const m = STREAM.exec(n);
    const pid = m ? Number(m[1]) : undefined;
    if (pid === undefined || (pid !== process.pid && processAlive(pid))) continue;
    await fs.rm(path.join(dir, n), { force: true });
    removed++;
  }
  for (const sub of subdirs) {
    const names = await fs.readdir(path.join(dir, sub)).catch(() => [] as string[]);
    for (const n of names) {
      const m = TMP.exec(n);
      const pid = m ? Number(m[1] ?? m[2]) : undefined;
      if (pid === undefined || (pid !== process.pid && processAlive(pid))) continue;
      await fs.rm(path.join(dir, sub, n), { force: true });
      removed++;
    }
  }
  return removed;
}
