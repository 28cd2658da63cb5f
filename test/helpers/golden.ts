import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { expect, type TestContext } from 'vitest';
import { repoRoot } from './cli.js';

/**
 * Compares a document yumda generates with its reviewed copy in test/golden/. With UPDATE_GOLDEN=1
 * it writes the copy instead and skips the test: nothing was compared, so it must not count as a
 * pass; the change shows up as a diff of test/golden/, reviewed like code, and the next run without
 * UPDATE_GOLDEN checks it. `name` is the file's path under test/golden/, given as a literal (the
 * check for unused golden files, test/unit/golden-files.test.ts, looks for it in the test sources).
 */
export function expectGolden(ctx: TestContext, name: string, actual: string): void {
  const f = path.join(repoRoot, 'test', 'golden', name);
  const rel = path.relative(repoRoot, f);
  if (process.env.UPDATE_GOLDEN) {
    const same = existsSync(f) && readFileSync(f, 'utf8') === actual;
    if (!same) {
      mkdirSync(path.dirname(f), { recursive: true });
      writeFileSync(f, actual);
    }
    ctx.skip(`UPDATE_GOLDEN=1: ${same ? 'left' : 'wrote'} ${rel}, compared nothing; review the diff, then run without UPDATE_GOLDEN`);
  }
  if (!existsSync(f)) throw new Error(`no golden file ${rel}: run with UPDATE_GOLDEN=1 to write it, then review it`);
  expect(actual).toBe(readFileSync(f, 'utf8'));
}
