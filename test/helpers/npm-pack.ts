import { readdirSync } from 'node:fs';
import path from 'node:path';
import { repoRoot, run } from './cli.js';
import { tempDir } from './tmp.js';

/**
 * This checkout as npm would publish it, the tarball's path: `npm pack` of dist/ as `npm test`
 * built it. Not through its prepack (`npm run build`, which the package's own test checks is
 * there): that rebuilds dist/bundle, removing it first, under the other test files running the
 * bin beside this one (three of them failed on 'Cannot find module dist/bundle/yumda.js').
 */
export async function packCheckout(): Promise<string> {
  const dir = tempDir('yumda-pack-');
  const r = await run('npm', ['pack', '--silent', '--ignore-scripts', '--pack-destination', dir], { cwd: repoRoot });
  if (r.code !== 0) throw new Error(`npm pack failed: ${r.stderr}`);
  const tgz = readdirSync(dir).find((f) => /^yumda-.*\.tgz$/.test(f));
  if (!tgz) throw new Error(`npm pack wrote no tarball in ${dir}`);
  return path.join(dir, tgz);
}

/** The packages an npm install warned about under `install-scripts` (`name@version (script: ...)` lines). */
export function installScriptWarnings(stderr: string): string[] {
  return [...stderr.matchAll(/^npm warn install-scripts +(@?[^@\s]+)@\S+ \(/gm)].map((m) => m[1]!);
}
