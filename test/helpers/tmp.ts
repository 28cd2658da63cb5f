import { chmodSync, lstatSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/**
 * Every temporary directory a test file makes, so that the file's `afterAll` (test/setup/temp-dirs.ts)
 * can remove them. A CI run builds Chromium and LibreOffice trees of hundreds of MB; left behind,
 * a run's directories filled the machine's disk and failed the files that ran after them.
 */
const made: string[] = [];

export function tempDir(prefix = 'yumda-test-'): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), prefix));
  made.push(dir);
  return dir;
}

/** Set YUMDA_KEEP_TEST_TMP=1 to keep them for a look after a failure. */
export function removeTempDirs(): void {
  if (process.env.YUMDA_KEEP_TEST_TMP === '1') return;
  for (const dir of made.splice(0)) removeTree(dir);
}

/** Layers and unpacked trees have read-only directories: made writable again before removal. */
function removeTree(dir: string): void {
  // retried (ENOTEMPTY, EBUSY): a CI run's arm64 file failed in its afterAll when something still
  // wrote into its cache directory while the directory was being removed
  const opts = { recursive: true, force: true, maxRetries: 10, retryDelay: 200 };
  try {
    rmSync(dir, opts);
  } catch {
    makeWritable(dir);
    rmSync(dir, opts);
  }
}

function makeWritable(dir: string): void {
  try {
    chmodSync(dir, 0o700);
    for (const name of readdirSync(dir)) {
      const p = path.join(dir, name);
      if (lstatSync(p).isDirectory()) makeWritable(p);
    }
  } catch {
    // what still cannot be removed is reported by the rmSync that follows
  }
}
