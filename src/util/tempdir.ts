import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { onInterrupt } from './cleanup.js';

/**
 * A temporary directory for one command's work (extracted contents, a layer blob), removed when
 * `fn` ends, however it ends, and on Ctrl-C.
 */
export async function withTempDir<T>(fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'yumda-'));
  const forget = onInterrupt(async () => rmSync(dir, { recursive: true, force: true }));
  try {
    return await fn(dir);
  } finally {
    forget();
    rmSync(dir, { recursive: true, force: true });
  }
}
