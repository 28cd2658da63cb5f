import { constants, promises as fs, accessSync, lstatSync, readlinkSync, realpathSync, type Stats, statSync } from 'node:fs';
import path from 'node:path';
import { MANIFEST_PATH } from '../format/layer-manifest.js';
import { sbomPathFor } from '../sbom/cyclonedx.js';
import type { ReplaceRule } from '../util/atomic.js';
import { printable } from '../util/printable.js';
import { isOwnOutput, OUTPUT_MARK, OUTPUT_NOUN, type OutputKind } from './ownership.js';

export type { OutputKind };
import { UserError } from '../util/errors.js';
import { LAYER_ROOT } from '../format/lambda.js';

/**
 * Where a command will write, checked before any work starts: a long build must not end in a
 * refusal, and above all no output may take the place of something yumda did not write (a
 * directory named as --out, a project's own manifest, a sibling directory a cloned manifest names).
 */
export interface OutputTarget {
  /** Absolute path. */
  path: string;
  /** What is written there: a layer zip, an SBOM, an image tarball, a lock, a runtime manifest, or a layer directory. */
  kind: OutputKind;
  /** How the user named it, for messages: `--out`, `outputs.dir of layer 'x'`. */
  what: string;
  /** A layer zip: its SBOM is written beside it (sbomPathFor), and is checked like it. */
  withSbom?: boolean;
}

export interface OutputPolicy {
  /** Outputs must stay inside this directory (a manifest's project), unless `allowOutside`. */
  confineTo?: string;
  allowOutside?: boolean;
  /** The flag that lifts the confinement, named in the refusal. */
  allowOutsideFlag?: string;
  /** Paths no output may be or contain, and no layer directory may be inside (the manifest, the lock, the cache). */
  protect?: string[];
  /** Create missing parent directories (inside the confinement) instead of refusing. */
  createParents?: boolean;
  /** Replace a file or symlink that is not an output yumda wrote (`--force`). */
  force?: boolean;
  /** The flag that allows it, named in the refusal (none: the refusal says to move it away). */
  forceFlag?: string;
}

/** How outputs may replace what exists: the part of the policy writers need again at write time. */
export type ReplacePolicy = Pick<OutputPolicy, 'force' | 'forceFlag'>;

/** The layer's manifest inside a layer directory: what marks a directory as one yumda wrote. */
const LAYER_DIR_MARK = path.relative(LAYER_ROOT, MANIFEST_PATH);

/** A directory yumda may replace: an empty one, or a layer it wrote (its manifest is there). */
export async function isReplaceableLayerDir(dir: string): Promise<boolean> {
  const names = await fs.readdir(dir).catch(() => undefined);
  if (!names) return false;
  if (names.length === 0) return true;
  return (await fs.lstat(path.join(dir, LAYER_DIR_MARK)).catch(() => undefined))?.isFile() ?? false;
}

/**
 * Refuses, in one line, to put an output in place of what is at its path, unless that is an
 * output of the same kind yumda wrote (emit/ownership.ts recognises them), or nothing. With
 * `force`, a file or symlink is replaced whatever it is; a directory yumda did not write never is.
 * The one check every writer of a user-named path makes: before the work (checkOutputs) and
 * again right before the rename (outputRule).
 */
export async function checkReplaceable(t: Pick<OutputTarget, 'path' | 'kind' | 'what'>, policy: ReplacePolicy = {}): Promise<void> {
  const st = await fs.lstat(t.path).catch(() => undefined);
  if (!st) return;
  const refuse = (why: string, hint: string) => new UserError(`${t.what}: ${t.path} ${why}; nothing written`, { hint });
  const forceHint = policy.forceFlag ? `pass ${policy.forceFlag} to replace it, or choose another path` : 'move it away, or choose another path';
  if (t.kind === 'dir') {
    if (st.isDirectory()) {
      if (await isReplaceableLayerDir(t.path)) return;
      const n = (await fs.readdir(t.path).catch(() => [])).length;
      throw refuse(
        `is a directory that yumda did not write (${n} ${n === 1 ? 'entry' : 'entries'}, no ${LAYER_DIR_MARK})`,
        'choose a new or empty directory: yumda replaces only a layer directory it wrote',
      );
    }
    throw refuse(
      st.isSymbolicLink() ? `is a symlink (to ${printable(await fs.readlink(t.path))}), not a directory` : 'exists and is not a directory',
      'choose a new or empty directory',
    );
  }
  if (st.isDirectory()) throw refuse('is a directory', `give a file name, e.g. ${path.join(t.path, DEFAULT_NAME[t.kind])}`);
  if (st.isSymbolicLink()) {
    if (policy.force) return;
    throw refuse(`is a symlink (to ${printable(await fs.readlink(t.path))}); yumda replaces a file it wrote, not a link`, forceHint);
  }
  if (!st.isFile()) throw refuse('exists and is not a regular file', 'choose another path');
  if (policy.force || (await isOwnOutput(t.path, t.kind))) return;
  throw refuse(`exists and is not ${OUTPUT_NOUN[t.kind]} yumda wrote (${OUTPUT_MARK[t.kind]})`, forceHint);
}

/** A file name for the hint when a directory was given. */
const DEFAULT_NAME: Record<Exclude<OutputKind, 'dir'>, string> = { zip: 'layer.zip', sbom: 'layer.cdx.json', image: 'image.tar', lock: 'yumda.lock', runtime: 'runtime.json' };

/** How `writeAtomically` may replace what is at an output's path: the same check as before the work. */
export function outputRule(t: Pick<OutputTarget, 'kind' | 'what'>, policy: ReplacePolicy = {}): ReplaceRule {
  return { kind: t.kind === 'dir' ? 'dir' : 'file', check: (dest) => checkReplaceable({ ...t, path: dest }, policy) };
}

/** The SBOM beside a layer zip, as an output of its own. */
export function sbomTarget(t: Pick<OutputTarget, 'path' | 'what'>): OutputTarget {
  return { path: sbomPathFor(t.path), kind: 'sbom', what: `${t.what} (its SBOM)` };
}

function isDirectory(p: string): boolean {
  try {
    return lstatSync(p).isDirectory();
  } catch {
    return false;
  }
}

function isInside(child: string, parent: string): boolean {
  const rel = path.relative(parent, child);
  return rel === '' || (!rel.startsWith('..' + path.sep) && rel !== '..' && !path.isAbsolute(rel));
}

/** The path with its existing ancestors' symlinks resolved: where a write would really land. */
function realLocation(p: string): string {
  let existing = p;
  const rest: string[] = [];
  for (;;) {
    try {
      return path.join(realpathSync(existing), ...rest.reverse());
    } catch {
      // a dangling symlink on the way: a write would go wherever it comes to point
      let link = false;
      try {
        link = lstatSync(existing).isSymbolicLink();
      } catch {
        link = false;
      }
      if (link) {
        throw new UserError(`${existing} is a symlink to nothing (${readlinkSync(existing)}); an output under it would land wherever it points; nothing written`);
      }
      const parent = path.dirname(existing);
      if (parent === existing) return p;
      rest.push(path.basename(existing));
      existing = parent;
    }
  }
}

function errnoCode(e: unknown): string {
  return (e as NodeJS.ErrnoException).code ?? String(e);
}

function checkParent(t: OutputTarget, policy: OutputPolicy): void {
  const parent = path.dirname(t.path);
  let st: Stats;
  try {
    st = statSync(parent);
  } catch {
    if (policy.createParents) return; // made when written, inside the confinement checked above
    throw new UserError(`${t.what}: directory ${parent} does not exist; nothing written`, { hint: `create it first, or choose another path` });
  }
  if (!st.isDirectory()) throw new UserError(`${t.what}: ${parent} is not a directory; nothing written`);
  try {
    accessSync(parent, constants.W_OK);
  } catch (e) {
    const why = errnoCode(e) === 'EROFS' ? 'it is on a read-only file system' : 'permission denied';
    throw new UserError(`${t.what}: cannot write in ${parent} (${why}); nothing written`, { hint: 'choose a writable place' });
  }
}

/**
 * Refuses, in one line and before any work, an output that would destroy or escape: an existing
 * directory (for a file) or a directory yumda did not write (for a layer directory), a path
 * outside the project, the manifest or lock (or a directory holding them), two outputs on one
 * path, a missing or read-only parent.
 */
export async function checkOutputs(targets: readonly OutputTarget[], policy: OutputPolicy = {}): Promise<void> {
  const seen = new Map<string, OutputTarget>();
  const all = targets.flatMap((t) => (t.withSbom ? [t, sbomTarget(t)] : [t]));
  // an existing directory named as a file output is that, whatever else would be said of it
  // (`--out /` is a directory, not a zip whose SBOM /.cdx.json would be inside it)
  for (const t of all) if (t.kind !== 'dir' && isDirectory(t.path)) await checkReplaceable(t, policy);
  for (const t of all) {
    const real = realLocation(t.path);
    // one output inside another (a zip in a layer directory, a directory in a directory): the
    // later write would replace, or be refused over, what the earlier one wrote
    for (const [otherReal, other] of seen) {
      if (otherReal === real) throw new UserError(`${t.what} and ${other.what} are the same path, ${t.path}; nothing written`);
      if (isInside(real, otherReal) || isInside(otherReal, real)) {
        const [outer, inner] = isInside(real, otherReal) ? [other, t] : [t, other];
        throw new UserError(`${inner.what} (${inner.path}) is inside ${outer.what} (${outer.path}); nothing written`, { hint: 'give each output a place of its own' });
      }
    }
    seen.set(real, t);
  }
  for (const t of all) {
    const real = realLocation(t.path);
    if (policy.confineTo && !policy.allowOutside) {
      const root = realLocation(policy.confineTo);
      if (!isInside(real, root) || real === root) {
        const where = real === root ? 'is the project directory itself' : `is outside the project directory ${policy.confineTo}`;
        throw new UserError(`${t.what}: ${t.path} ${where}; nothing written`, {
          hint: `keep outputs inside the project${policy.allowOutsideFlag ? `, or pass ${policy.allowOutsideFlag} if you trust this manifest` : ''}`,
        });
      }
    }
    for (const p of policy.protect ?? []) {
      const protectedReal = realLocation(p);
      if (isInside(protectedReal, real) || (t.kind === 'dir' && isInside(real, protectedReal))) {
        const how = real === protectedReal ? 'is' : isInside(protectedReal, real) ? 'holds' : 'is inside';
        throw new UserError(`${t.what}: ${t.path} ${how} ${path.basename(p)}, which yumda must not overwrite; nothing written`, {
          hint: 'choose another output path',
        });
      }
    }
    await checkReplaceable(t, policy);
    checkParent(t, policy);
  }
}
