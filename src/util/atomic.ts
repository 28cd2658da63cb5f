import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { onInterrupt, throwIfInterrupted } from './cleanup.js';
import { fsError } from './errors.js';
import { processAlive } from './owner.js';

/** A sibling name for work in progress, so the final rename stays on one filesystem. */
export function temporarySibling(dest: string): string {
  const dir = path.dirname(dest);
  return path.join(dir, `.${path.basename(dest)}.yumda-${process.pid}-${randomBytes(4).toString('hex')}.tmp`);
}

/**
 * Writes `dest` through `write(tmp)` under a temporary name and renames it into place only when
 * `write` finished; on failure the temporary is removed and `dest` is untouched. Works for files
 * and directories (an existing directory at `dest` is replaced).
 */
export async function writeAtomically<T>(dest: string, write: (tmp: string) => Promise<T>): Promise<T> {
  await removeStaleSiblings(dest);
  const tmp = temporarySibling(dest);
  const forget = onInterrupt(() => fs.rm(tmp, { recursive: true, force: true }));
  try {
    const result = await write(tmp);
    throwIfInterrupted();
    const existing = await fs.lstat(dest).catch(() => undefined);
    if (existing?.isDirectory()) {
      const old = temporarySibling(dest);
      await fs.rename(dest, old);
      await fs.rename(tmp, dest);
      await fs.rm(old, { recursive: true, force: true });
    } else {
      await fs.rename(tmp, dest);
    }
    return result;
  } catch (e) {
    await fs.rm(tmp, { recursive: true, force: true });
    throw fsError(e, { path: dest });
  } finally {
    forget();
  }
}

// Stale temporaries. Kept apart from the helpers above so that they can change independently.

const SIBLING = /^\.(.+)\.yumda-(\d+)-[0-9a-f]+\.tmp$/;

/** What a name made by `temporarySibling` stands for: the destination's name and its writer's pid. */
export function parseTemporarySibling(name: string): { dest: string; pid: number } | undefined {
  const m = SIBLING.exec(name);
  return m ? { dest: m[1]!, pid: Number(m[2]) } : undefined;
}

/**
 * Removes the temporary siblings of `dest` whose writer no longer runs on this machine (a build
 * killed with kill -9 left them); another live build's are left alone. Returns what it removed.
 */
export async function removeStaleSiblings(dest: string, alive: (pid: number) => boolean = processAlive): Promise<string[]> {
  const dir = path.dirname(dest);
  const names = await fs.readdir(dir).catch(() => [] as string[]);
  const stale = names.filter((n) => {
    const t = parseTemporarySibling(n);
    return t !== undefined && t.dest === path.basename(dest) && t.pid !== process.pid && !alive(t.pid);
  });
  await Promise.all(stale.map((n) => fs.rm(path.join(dir, n), { recursive: true, force: true })));
  return stale.map((n) => path.join(dir, n));
}
