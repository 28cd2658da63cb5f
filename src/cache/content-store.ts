import { promises as fs, mkdirSync, readFileSync } from 'node:fs';
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
    let data: Buffer;
    try {
      data = readFileSync(file);
    } catch (e) {
      return { damaged: unreadable(e) };
    }
    const digest = sha256(data);
    if (digest !== hash) return { damaged: `its sha256 is ${digest.slice(0, 12)}…, not ${hash.slice(0, 12)}…` };
    return undefined;
  }
}

/**
 * Removes the store's temporary files whose writer is this process (a write that failed: a full
 * disk) or a process that no longer runs (a build killed with kill -9). Writes are synchronous,
 * so this process has none in flight whenever this runs; other live builds' are left alone.
 */
export async function removeStaleTemporaries(dir: string): Promise<number> {
  // `.<hash>.yumda-<pid>-<rand>.tmp` (temporarySibling) and the older `<hash>.<pid>.<rand>.tmp`
  const TMP = /^(?:\.[0-9a-f]{64}\.yumda-(\d+)-|[0-9a-f]{64}\.(\d+)\.)[0-9a-f]+\.tmp$/;
  let removed = 0;
  const subdirs = await fs.readdir(dir).catch(() => [] as string[]);
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
