import { formatBytes } from '../util/format.js';
import { printable } from '../util/printable.js';
import type { UnusableLeftOut } from './layer-manifest.js';
import { plural } from '../util/plural.js';

/**
 * One line per group of what cannot work on Lambda that a build left out: what, why, how much,
 * the libraries only it needed, and how to keep it. Printed by install, inspect and verify; the
 * record may come from a layer's manifest, so it is escaped.
 */
export function unusableLine(u: UnusableLeftOut): string {
  const libs = u.libraries.length ? `; libraries only they needed: ${u.libraries.join(', ')} (${formatBytes(u.libraryBytes)})` : '';
  return printable(`left out: ${u.what} (${u.why}): ${plural(u.files, 'file')}, ${formatBytes(u.bytes)}${libs}; --keep-unusable ${u.id} keeps them`);
}
