import type { FileTree } from '../tree/types.js';

/**
 * Debian and RPM packages create some of their commands in maintainer scripts, through
 * update-alternatives (ImageMagick's `convert` is a link to `convert-im6.q16`). Packages are
 * unpacked without their scripts, so the build records the alternatives the scripts would have
 * installed, and relocation makes the links.
 */
export interface Alternative {
  name: string;
  link: string;
  path: string;
  priority: number;
}

/**
 * Parses the arguments of `update-alternatives` calls, one call a line:
 * `--install LINK NAME PATH PRIORITY [--slave LINK NAME PATH]...` (other options are ignored).
 */
export function parseAlternatives(log: string): Alternative[] {
  const out: Alternative[] = [];
  for (const line of log.split('\n')) {
    const words = line.trim().split(/\s+/);
    const i = words.indexOf('--install');
    if (i < 0 || words.length < i + 5) continue;
    const [link, name, path, prio] = words.slice(i + 1, i + 5) as [string, string, string, string];
    const priority = Number(prio);
    if (!link.startsWith('/') || !path.startsWith('/') || !Number.isFinite(priority)) continue;
    out.push({ name, link, path, priority });
    for (let j = i + 5; j + 3 < words.length + 1; j++) {
      if (words[j] !== '--slave') continue;
      const [sl, sn, sp] = words.slice(j + 1, j + 4);
      if (sl?.startsWith('/') && sn && sp?.startsWith('/')) out.push({ name: sn, link: sl, path: sp, priority });
    }
  }
  return out;
}

/**
 * Adds, for each alternative name, a link from its link path to the highest-priority target the
 * staged tree has (ties: the first registered). Links the packages ship themselves win.
 */
export function applyAlternatives(staged: FileTree, alternatives: Alternative[]): Array<{ link: string; path: string }> {
  const best = new Map<string, Alternative>();
  for (const a of alternatives) {
    if (!staged.has(a.path)) continue;
    const cur = best.get(a.name);
    if (!cur || a.priority > cur.priority) best.set(a.name, a);
  }
  const added: Array<{ link: string; path: string }> = [];
  for (const a of [...best.values()].sort((x, y) => x.link.localeCompare(y.link))) {
    if (staged.has(a.link)) continue;
    const owner = staged.get(a.path)?.pkg;
    staged.set(a.link, { kind: 'symlink', path: a.link, target: a.path, ...(owner ? { pkg: owner } : {}) });
    added.push({ link: a.link, path: a.path });
  }
  return added;
}
