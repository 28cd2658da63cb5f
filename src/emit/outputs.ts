import { constants, promises as fs, accessSync, lstatSync, readdirSync, readlinkSync, realpathSync, type Stats, statSync } from 'node:fs';
import path from 'node:path';
import { MANIFEST_PATH } from '../format/layer-manifest.js';
import { LAYER_ROOT } from '../relocate/placement.js';
import { sbomPathFor } from '../sbom/cyclonedx.js';
import type { ReplaceRule } from '../util/atomic.js';
import { UserError } from '../util/errors.js';

/**
 * Where a command will write, checked before any work starts: a long build must not end in a
 * refusal, and above all no output may take the place of something yumda did not write (a
 * directory named as --out, a project's own manifest, a sibling directory a cloned manifest names).
 */
export interface OutputTarget {
  /** Absolute path. */
  path: string;
  /** A file (zip, tarball, SBOM, lock) or a layer directory. */
  kind: 'file' | 'dir';
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
}

/** The layer's manifest inside a layer directory: what marks a directory as one yumda wrote. */
const LAYER_DIR_MARK = path.relative(LAYER_ROOT, MANIFEST_PATH);

/** A directory yumda may replace: an empty one, or a layer it wrote (its manifest is there). */
export async function isReplaceableLayerDir(dir: string): Promise<boolean> {
  const names = await fs.readdir(dir).catch(() => undefined);
  if (!names) return false;
  if (names.length === 0) return true;
  return (await fs.lstat(path.join(dir, LAYER_DIR_MARK)).catch(() => undefined))?.isFile() ?? false;
}

/** How `writeAtomically` may replace an existing path of this kind. */
export function replaceRule(kind: OutputTarget['kind']): ReplaceRule {
  return kind === 'dir' ? { kind: 'dir', isReplaceableDir: isReplaceableLayerDir } : { kind: 'file' };
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

function checkExisting(t: OutputTarget): void {
  let st: Stats;
  try {
    st = lstatSync(t.path);
  } catch {
    return;
  }
  if (t.kind === 'file') {
    if (st.isDirectory()) throw new UserError(`${t.what}: ${t.path} is a directory; nothing written`, { hint: `give a file name, e.g. ${path.join(t.path, 'layer.zip')}` });
    if (!st.isFile() && !st.isSymbolicLink()) throw new UserError(`${t.what}: ${t.path} exists and is not a regular file; nothing written`);
    return;
  }
  if (!st.isDirectory()) throw new UserError(`${t.what}: ${t.path} exists and is not a directory; nothing written`, { hint: 'choose a new or empty directory' });
  const names = readdirSync(t.path);
  if (names.length === 0) return;
  let marked = false;
  try {
    marked = lstatSync(path.join(t.path, LAYER_DIR_MARK)).isFile();
  } catch {
    marked = false;
  }
  if (!marked) {
    throw new UserError(
      `${t.what}: ${t.path} is a directory that yumda did not write (${names.length} ${names.length === 1 ? 'entry' : 'entries'}, no ${LAYER_DIR_MARK}); nothing written`,
      {
        hint: 'choose a new or empty directory: yumda replaces only a layer directory it wrote',
      },
    );
  }
}

/**
 * Refuses, in one line and before any work, an output that would destroy or escape: an existing
 * directory (for a file) or a directory yumda did not write (for a layer directory), a path
 * outside the project, the manifest or lock (or a directory holding them), two outputs on one
 * path, a missing or read-only parent.
 */
export function checkOutputs(targets: readonly OutputTarget[], policy: OutputPolicy = {}): void {
  const seen = new Map<string, OutputTarget>();
  const all = targets.flatMap((t) => (t.withSbom ? [t, { path: sbomPathFor(t.path), kind: 'file' as const, what: `${t.what} (its SBOM)` }] : [t]));
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
    checkExisting(t);
    checkParent(t, policy);
  }
}
