import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { expect } from 'vitest';
import { repoRoot } from './cli.js';

/**
 * Compares a document yumda generates with its reviewed copy in test/golden/; with UPDATE_GOLDEN=1
 * it rewrites the copy first, so an intended change shows up as a diff reviewed like code.
 */
export function expectGolden(name: string, actual: string): void {
  const f = path.join(repoRoot, 'test', 'golden', name);
  if (process.env.UPDATE_GOLDEN) {
    mkdirSync(path.dirname(f), { recursive: true });
    writeFileSync(f, actual);
  }
  if (!existsSync(f)) throw new Error(`no golden file ${path.relative(repoRoot, f)}: run with UPDATE_GOLDEN=1 to write it, then review it`);
  expect(actual).toBe(readFileSync(f, 'utf8'));
}
