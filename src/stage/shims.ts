import { STAGE_OUT } from '../resolve/backend.js';
import type { Runner } from '../runner/types.js';
import { tarOf } from '../tree/tar.js';
import { shellTemplate } from '../util/template.js';

/**
 * Stand-ins for commands a package's install script calls while it runs at staging, in the
 * throw-away build container: they record what the script asked for (into STAGE_META, which
 * staging reads back) and change nothing. Each backend puts the ones its scripts call into
 * SHIM_DIR, which its staging script puts first on their PATH.
 */
export const SHIM_DIR = '/yumda/shim';

/** Where the recorders write: `<package>.<command>` files. */
export const STAGE_META = `${STAGE_OUT}/meta`;

const alternativesTemplate = shellTemplate(new URL('./shims/alternatives.sh', import.meta.url));

/** The recorder of update-alternatives, under each name the package manager's scripts call it by. */
export function alternativesRecorder(names: string[]): Map<string, string> {
  const text = alternativesTemplate({ META: STAGE_META });
  return new Map(names.map((n) => [`${SHIM_DIR}/${n}`, text]));
}

/** Puts shims (by path) into the container, executable. */
export async function putShims(c: Runner, shims: Map<string, string>): Promise<void> {
  await c.putArchive('/', await tarOf(shims, 0o755));
}
