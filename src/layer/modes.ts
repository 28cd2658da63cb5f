import { printable } from '../util/printable.js';

import { SPECIAL_MODE_BITS } from '../relocate/relocate.js';
import { LAYER_ROOT } from '../format/lambda.js';

export interface SpecialMode {
  path: string;
  /** As `ls -l` shows it: `-rwsr-xr-x`. */
  mode: string;
}

/** `ls -l`'s mode column for an entry. */
export function modeString(kind: 'file' | 'dir' | 'symlink', mode: number): string {
  const type = kind === 'dir' ? 'd' : kind === 'symlink' ? 'l' : '-';
  const rwx = (shift: number, special: number, on: string, off: string) => {
    const bits = (mode >> shift) & 7;
    const x = bits & 1 ? (mode & special ? on : 'x') : mode & special ? off : '-';
    return `${bits & 4 ? 'r' : '-'}${bits & 2 ? 'w' : '-'}${x}`;
  };
  return type + rwx(6, 0o4000, 's', 'S') + rwx(3, 0o2000, 's', 'S') + rwx(0, 0o1000, 't', 'T');
}

/** Entries carrying setuid, setgid or sticky bits, sorted by path. */
export function specialModes(entries: Iterable<{ path: string; kind: 'file' | 'dir' | 'symlink'; mode?: number }>): SpecialMode[] {
  const out: SpecialMode[] = [];
  for (const e of entries) {
    if (e.kind === 'symlink' || e.mode === undefined || (e.mode & SPECIAL_MODE_BITS) === 0) continue;
    out.push({ path: e.path, mode: modeString(e.kind, e.mode) });
  }
  return out.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

/**
 * One line about them, for inspect and verify. Lambda runs functions as an unprivileged user with
 * no_new_privs, so the bits do nothing there; unpacked as root on a host (a Docker stage, a
 * directory layer) they would make a setuid-root program.
 */
export function specialModesLine(found: readonly SpecialMode[], max = 5): string {
  const names = found.slice(0, max).map((f) => `${printable(f.path.slice(LAYER_ROOT.length + 1))} (${f.mode})`);
  const more = found.length > max ? ` and ${found.length - max} more` : '';
  return `setuid/setgid/sticky: ${names.join(', ')}${more}: Lambda cannot use them (functions run unprivileged, with no_new_privs), and unpacked as root they would keep them; rebuild with yumda, which strips them`;
}
