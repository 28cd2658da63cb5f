import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { existsSync } from 'node:fs';

/**
 * The project's root (where registry/, recipes/, images/ live), found from this module's place both
 * when run from src/ through the test runner and from dist/src/ after a build.
 */
export const projectRoot: string = (() => {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(path.join(dir, 'registry')) && existsSync(path.join(dir, 'package.json'))) return dir;
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error('yumda: cannot find the project root (registry/ next to package.json)');
    dir = parent;
  }
})();

/** Normalises an absolute POSIX path: collapses `//`, `.` and `..`; never climbs above `/`. */
export function normalizeAbsolute(p: string): string {
  return path.posix.normalize('/' + p).replace(/\/+$/, '') || '/';
}
