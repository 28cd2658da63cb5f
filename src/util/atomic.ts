import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { onInterrupt } from './cleanup.js';

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
  const tmp = temporarySibling(dest);
  const forget = onInterrupt(() => fs.rm(tmp, { recursive: true, force: true }));
  try {
    const result = await write(tmp);
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
    throw e;
  } finally {
    forget();
  }
}

// Imports are hoisted; this one sits here so the top of the file stays as others keep it.
import * as syncFs from 'node:fs';

/**
 * The synchronous form of `writeAtomically` for small files (the build cache's content and
 * records): readers, other builds included, see the old file or the new one, never part of one.
 */
export function writeFileAtomicSync(dest: string, data: string | Buffer): void {
  const tmp = temporarySibling(dest);
  try {
    syncFs.writeFileSync(tmp, data);
    syncFs.renameSync(tmp, dest);
  } catch (e) {
    syncFs.rmSync(tmp, { force: true });
    throw e;
  }
}
