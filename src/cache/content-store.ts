import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { processAlive } from '../util/owner.js';

/**
 * File contents by SHA-256, on the host's disk. Staged trees reference it instead of holding bytes
 * in memory, and equal files (across packages, builds and targets) are stored once. Writes go to
 * a temporary name and are renamed, so concurrent builds sharing a store never see partial files.
 */
export class ContentStore {
  constructor(readonly dir: string) {
    mkdirSync(dir, { recursive: true });
  }

  pathOf(hash: string): string {
    return path.join(this.dir, hash.slice(0, 2), hash);
  }

  put(data: Buffer): { hash: string; hostPath: string } {
    const hash = createHash('sha256').update(data).digest('hex');
    const dest = this.pathOf(hash);
    if (!existsSync(dest)) {
      mkdirSync(path.dirname(dest), { recursive: true });
      const tmp = `${dest}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
      writeFileSync(tmp, data);
      renameSync(tmp, dest);
    }
    return { hash, hostPath: dest };
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
