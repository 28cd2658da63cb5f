import { chmodSync, existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { removeTempDirs, tempDir } from '../helpers/tmp.js';

/**
 * The tests' own temporary directories go when each file ends (test/setup/temp-dirs.ts): left
 * behind, a CI run's caches and layers filled the disk. Layers and unpacked trees hold read-only
 * directories, which a plain recursive remove by a non-root user cannot empty.
 */
describe('test temporary directories', () => {
  it('are all removed, read-only directories and symlinks included, without following a link out', () => {
    // not one of the registry's: it must survive
    const outside = mkdtempSync(path.join(os.tmpdir(), 'yumda-tmp-outside-'));
    writeFileSync(path.join(outside, 'keep'), 'x');
    const a = tempDir('yumda-tmp-a-');
    const b = tempDir('yumda-tmp-b-');
    const ro = path.join(a, 'layer/bin');
    mkdirSync(ro, { recursive: true });
    writeFileSync(path.join(ro, 'prog'), 'x');
    chmodSync(ro, 0o555);
    chmodSync(path.join(a, 'layer'), 0o555);
    // a link to another directory is removed as a link; what it points at stays
    symlinkSync(outside, path.join(b, 'link'));
    const kept = process.env.YUMDA_KEEP_TEST_TMP;
    delete process.env.YUMDA_KEEP_TEST_TMP;
    try {
      removeTempDirs();
    } finally {
      if (kept !== undefined) process.env.YUMDA_KEEP_TEST_TMP = kept;
    }
    expect([a, b].map(existsSync)).toEqual([false, false]);
    expect(existsSync(path.join(outside, 'keep'))).toBe(true);
    rmSync(outside, { recursive: true });
  });
});
