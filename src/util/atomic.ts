import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { onInterrupt } from './cleanup.js';
import { UserError } from './errors.js';

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
  const tmp = temporarySibling(dest);
  const forget = onInterrupt(() => fs.rm(tmp, { recursive: true, force: true }));
  try {
    const result = await write(tmp);
    const existing = await fs.lstat(dest).catch(() => undefined);
    if (existing?.isDirectory()) {
      if (rule.kind !== 'dir' || !(await rule.isReplaceableDir(dest))) {
        throw new UserError(`${dest} is a directory${rule.kind === 'dir' ? ' that yumda did not write' : ''}; nothing written`, {
          hint: rule.kind === 'dir' ? 'choose a new or empty directory' : 'give a file name',
        });
      }
      const old = temporarySibling(dest);
      await fs.rename(dest, old);
      await fs.rename(tmp, dest);
      await fs.rm(old, { recursive: true, force: true });
    } else {
      if (existing && rule.kind === 'dir') throw new UserError(`${dest} exists and is not a directory; nothing written`, { hint: 'choose a new or empty directory' });
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
