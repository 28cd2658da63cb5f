import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';

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
