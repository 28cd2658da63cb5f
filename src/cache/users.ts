import { mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { writeFileAtomicSync } from '../util/atomic.js';
import { currentOwner, ownerGone, type Owner } from '../util/owner.js';

/**
 * Who is using the cache. A build's staged tree points into the cache's content store until its
 * outputs are written, so `yumda cache clean` must not remove the store under a running build
 * (the build then failed with ENOENT). Rather than make every read of the store survive its
 * removal, `cache clean` waits for the builds that run, and a build waits for a clean that runs:
 * cleaning is quick and rare, a build is long.
 *
 * Each process marks itself in `<cache>/.users/` (`build-<pid>.json` or `clean-<pid>.json`, its
 * Owner) before it looks for the other kind, and a build that finds a clean steps back (removes
 * its mark) until the clean is done: whichever order the two start in, at least one sees the
 * other. A mark whose process is gone (killed with kill -9) is removed by whoever finds it.
 */

const DIR = '.users';
const POLL_MS = 200;

type Role = 'build' | 'clean';

function dirOf(root: string): string {
  return path.join(root, DIR);
}

function markOf(root: string, role: Role, pid = process.pid): string {
  return path.join(dirOf(root), `${role}-${pid}.json`);
}

/** The live processes of a role other than this one; marks of processes that are gone are removed. */
export function liveUsers(root: string, role: Role, gone: (o: Owner) => boolean = ownerGone): Owner[] {
  const out: Owner[] = [];
  let names: string[];
  try {
    names = readdirSync(dirOf(root));
  } catch {
    return out;
  }
  for (const n of names) {
    const m = /^(build|clean)-(\d+)\.json$/.exec(n);
    if (!m || m[1] !== role || Number(m[2]) === process.pid) continue;
    const file = path.join(dirOf(root), n);
    let owner: Owner | undefined;
    try {
      owner = JSON.parse(readFileSync(file, 'utf8')) as Owner;
    } catch {
      owner = undefined;
    }
    if (!owner || typeof owner.pid !== 'number' || gone(owner)) rmSync(file, { recursive: true, force: true });
    else out.push(owner);
  }
  return out;
}

const marked = new Set<string>();

function mark(root: string, role: Role): void {
  mkdirSync(dirOf(root), { recursive: true });
  const file = markOf(root, role);
  writeFileAtomicSync(file, JSON.stringify(currentOwner()));
  if (!marked.has(file)) {
    marked.add(file);
    // the mark lasts as long as the process: the outputs a build writes at its end use the cache too
    process.once('exit', () => rmSync(file, { force: true }));
  }
}

function unmark(root: string, role: Role): void {
  rmSync(markOf(root, role), { force: true });
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const pids = (owners: Owner[]) => owners.map((o) => o.pid).join(', ');

/** Marks this process as a build using the cache, after any `cache clean` running now has finished. */
export async function useCacheForBuild(root: string, notify: (line: string) => void): Promise<void> {
  let told = false;
  for (;;) {
    mark(root, 'build');
    const cleaners = liveUsers(root, 'clean');
    if (cleaners.length === 0) return;
    unmark(root, 'build');
    if (!told) notify(`waiting for \`yumda cache clean\` (pid ${pids(cleaners)}) to finish with ${root}`);
    told = true;
    while (liveUsers(root, 'clean').length) await sleep(POLL_MS);
  }
}

/** Runs `clean` once no build uses the cache; builds that start meanwhile wait for it. */
export async function whileNoBuildRuns<T>(root: string, clean: () => Promise<T>, notify: (line: string) => void): Promise<T> {
  mark(root, 'clean');
  try {
    let told = '';
    for (let builds = liveUsers(root, 'build'); builds.length; builds = liveUsers(root, 'build')) {
      const line = `waiting for ${builds.length} running build${builds.length > 1 ? 's' : ''} (pid ${pids(builds)}) to finish with ${root}; Ctrl-C to stop`;
      if (line !== told) notify(line);
      told = line;
      await sleep(POLL_MS);
    }
    return await clean();
  } finally {
    unmark(root, 'clean');
  }
}
