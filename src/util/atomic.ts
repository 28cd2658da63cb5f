import { randomBytes } from 'node:crypto';
import { promises as fs, lstatSync, renameSync, rmSync, type Stats, writeFileSync } from 'node:fs';
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
 * What may be put in place of something already at a destination. `check` is called only when
 * something is there, and throws (a UserError saying why, in one line) when it must not be
 * replaced: emit/outputs.ts makes the rule for every output a user names, so what yumda did not
 * write is never replaced unasked. A `dir` output replaces a directory (moved aside, then
 * removed); a `file` output never replaces a directory.
 */
export interface ReplaceRule {
  kind: 'file' | 'dir';
  check(dest: string): Promise<void>;
}

/** yumda's own files (the cache's records and content, a finished zip's cached copy): a file is replaced, a directory never. */
export const INTERNAL_FILE: ReplaceRule = {
  kind: 'file',
  async check(dest) {
    if ((await fs.lstat(dest)).isDirectory()) throw new UserError(`${dest} is a directory; nothing written`, { hint: 'give a file name' });
  },
};

/** An output written under a temporary name, not yet in place. */
export interface StagedWrite<T> {
  readonly dest: string;
  readonly result: T;
  /** Removes the temporary, leaving `dest` as it was. */
  discard(): Promise<void>;
}

interface Staged<T> extends StagedWrite<T> {
  tmp: string;
  rule: ReplaceRule;
  forget: () => void;
}

/**
 * Writes `dest`'s content through `write(tmp)` under a temporary name and checks what is at
 * `dest` against `rule`, without putting anything in place: `commitTogether` does that, for one
 * output or for outputs that belong together (a zip and its SBOM). On failure, or on an interrupt
 * before the commit, the temporary is removed.
 */
export async function stageAtomically<T>(dest: string, write: (tmp: string) => Promise<T>, rule: ReplaceRule): Promise<StagedWrite<T>> {
  await removeStaleSiblings(dest);
  const tmp = temporarySibling(dest);
  const forget = onInterrupt(() => fs.rm(tmp, { recursive: true, force: true }));
  try {
    const result = await write(tmp);
    throwIfInterrupted();
    if (await fs.lstat(dest).catch(() => undefined)) await rule.check(dest);
    const staged: Staged<T> = {
      dest,
      result,
      tmp,
      rule,
      forget,
      async discard() {
        forget();
        await fs.rm(tmp, { recursive: true, force: true });
      },
    };
    return staged;
  } catch (e) {
    forget();
    await fs.rm(tmp, { recursive: true, force: true });
    throw fsError(e, { path: dest });
  }
}

/**
 * Puts staged outputs in place, all or none: the renames run back to back, synchronously, after a
 * last check for an interrupt. Node runs a signal handler only between turns of its event loop, so
 * a Ctrl-C or SIGTERM lands before the first rename (every temporary is removed, nothing is in
 * place) or after the last (all are). A directory replaced by a layer directory is removed
 * afterwards. A rename that fails puts back what the group had put in place.
 */
export async function commitTogether(writes: ReadonlyArray<StagedWrite<unknown>>): Promise<void> {
  const group = writes as ReadonlyArray<Staged<unknown>>;
  const aside: string[] = [];
  try {
    throwIfInterrupted();
    const done: Array<{ s: Staged<unknown>; old?: string }> = [];
    try {
      for (const s of group) {
        const existing = lstatOrUndefined(s.dest);
        if (existing?.isDirectory() && s.rule.kind === 'dir') {
          const old = temporarySibling(s.dest);
          renameSync(s.dest, old);
          try {
            renameSync(s.tmp, s.dest);
          } catch (e) {
            renameSync(old, s.dest);
            throw e;
          }
          done.push({ s, old });
        } else {
          if (existing?.isDirectory()) throw new UserError(`${s.dest} is a directory; nothing written`, { hint: 'give a file name' });
          if (existing && s.rule.kind === 'dir') throw new UserError(`${s.dest} exists and is not a directory; nothing written`, { hint: 'choose a new or empty directory' });
          renameSync(s.tmp, s.dest);
          done.push({ s });
        }
      }
    } catch (e) {
      // what this group put in place goes; a replaced directory comes back (a replaced file is gone)
      for (const { s, old } of done.reverse()) {
        rmSync(s.dest, { recursive: true, force: true });
        if (old) renameSync(old, s.dest);
      }
      throw e;
    }
    for (const d of done) if (d.old) aside.push(d.old);
  } catch (e) {
    for (const s of group) {
      s.forget();
      rmSync(s.tmp, { recursive: true, force: true });
    }
    throw fsError(e, { path: group[0]?.dest });
  }
  for (const s of group) s.forget();
  await Promise.all(aside.map((old) => fs.rm(old, { recursive: true, force: true })));
}

function lstatOrUndefined(p: string): Stats | undefined {
  try {
    return lstatSync(p);
  } catch {
    return undefined;
  }
}

/**
 * Writes `dest` through `write(tmp)` under a temporary name and renames it into place only when
 * `write` finished; on failure the temporary is removed and `dest` is untouched. Whatever is at
 * `dest` is checked against `rule` right before it is replaced, so something that appeared
 * during a long build is refused rather than destroyed.
 */
export async function writeAtomically<T>(dest: string, write: (tmp: string) => Promise<T>, rule: ReplaceRule): Promise<T> {
  const staged = await stageAtomically(dest, write, rule);
  await commitTogether([staged]);
  return staged.result;
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
