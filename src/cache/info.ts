import { promises as fs } from 'node:fs';
import path from 'node:path';
import type { CachePaths } from './paths.js';

export interface CacheUsage {
  name: keyof Omit<CachePaths, 'root'>;
  dir: string;
  files: number;
  bytes: number;
}

async function usage(dir: string): Promise<{ files: number; bytes: number }> {
  let files = 0;
  let bytes = 0;
  const walk = async (d: string): Promise<void> => {
    let names: string[];
    try {
      names = await fs.readdir(d);
    } catch {
      return;
    }
    for (const n of names) {
      const p = path.join(d, n);
      const st = await fs.lstat(p);
      if (st.isDirectory()) await walk(p);
      else {
        files++;
        bytes += st.size;
      }
    }
  };
  await walk(dir);
  return { files, bytes };
}

export async function cacheUsage(paths: CachePaths): Promise<CacheUsage[]> {
  const names = ['content', 'packages', 'plans', 'postStage', 'scripts', 'zips', 'packs'] as const;
  return Promise.all(names.map(async (name) => ({ name, dir: paths[name], ...(await usage(paths[name])) })));
}

/** Removes the cache, or only some parts of it; safe while no build is running (cache/users.ts sees to that). */
export async function cleanCache(paths: CachePaths, parts: ReadonlyArray<keyof Omit<CachePaths, 'root'>>): Promise<void> {
  for (const p of parts) await fs.rm(paths[p], { recursive: true, force: true });
}
