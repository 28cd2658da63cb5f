import { randomBytes } from 'node:crypto';
import { promises as fs, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { onInterrupt, throwIfInterrupted } from './cleanup.js';
import { fsError, UserError } from './errors.js';
import { processAlive } from './owner.js';

/** A sibling name for work in progress, so the final rename stays on one filesystem. */
export function temporarySibling(dest: string): string {
  const dir = path.dirname(dest);
  return path.join(dir, `.${path.basename(dest)}.yumda-${process.pid}-${randomBytes(4).toString('hex')}.tmp`);
}

/**
 * What `writeAtomically` may put in place of an existing path. A file output replaces a file (the
 * user named it); a layer directory replaces only an empty directory or a layer yumda wrote, which
 * `isReplaceableDir` recognises. Nothing else is ever removed.
 */
export type ReplaceRule = { kind: 'file' } | { kind: 'dir'; isReplaceableDir: (dir: string) => Promise<boolean> };

/**
 * Writes `dest` through `write(tmp)` under a temporary name and renames it into place only when
 * `write` finished; on failure the temporary is removed and `dest` is untouched. Whatever is at
 * `dest` is checked against `rule` again right before it is replaced, so a directory that
 * appeared during a long build is refused rather than deleted.
 */
export async function writeAtomically<T>(dest: string, write: (tmp: string) => Promise<T>, rule: ReplaceRule = { kind: 'file' }): Promise<T> {
  await removeStaleSiblings(dest);
  const tmp = temporarySibling(dest);
  const forget = onInterrupt(() => fs.rm(tmp, { recursive: true, force: true }));
  try {
    const result = await write(tmp);
    throwIfInterrupted();
    const existing = await fs.lstat(dest).catch(() => undefined);
    if (existing?.isDirectory()) {
      if (rule.kind !== 'dir' || !(await rule.isReplaceableDir(dest))) {
        throw new UserError(`${dest} is a directory${rule.kind === 'dir' ? ' that yumda did not write' : ''}; nothing written`, {
          hint: rule.kind === 'dir' ? 'choose a new or empty directory' : 'give a file name',
        });
      }
      const old = temporarySibling(dest);
      await fs.rename(dest, old);
      try {
        await fs.rename(tmp, dest);
      } catch (e) {
        // the previous layer goes back where it was rather than wait, hidden, for a sweep
        await fs.rename(old, dest).catch(() => undefined);
        throw e;
      }
      await fs.rm(old, { recursive: true, force: true });
    } else {
      if (existing && rule.kind === 'dir') throw new UserError(`${dest} exists and is not a directory; nothing written`, { hint: 'choose a new or empty directory' });
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

/**
 * The synchronous form of `writeAtomically` for small files (the build cache's content and
 * records): readers, other builds included, see the old file or the new one, never part of one.
 */
export function writeFileAtomicSync(dest: string, data: string | Buffer): void {
  const tmp = temporarySibling(dest);
  try {
    writeFileSync(tmp, data);
    renameSync(tmp, dest);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw e;
  }
}
