import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { repoRoot } from '../helpers/cli.js';

/**
 * Every file in test/golden/ is one some test compares against: a golden file left behind by a
 * renamed or deleted test is reviewed on every change and checks nothing. A file counts as used when
 * a test source that calls expectGolden names it, as expectGolden is given it (its path under
 * test/golden/), in a string literal.
 */
const goldenDir = path.join(repoRoot, 'test', 'golden');
const testDir = path.join(repoRoot, 'test');

/** Files under `dir`, as paths relative to it with '/' between components. */
function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => path.relative(dir, path.join(e.parentPath, e.name)).split(path.sep).join('/'))
    .sort();
}

describe('golden files', () => {
  it('every file in test/golden/ is named by a test that calls expectGolden', () => {
    const golden = filesUnder(goldenDir);
    expect(golden.length, 'test/golden/ is empty: nothing to check').toBeGreaterThan(0);
    const sources = filesUnder(testDir)
      .filter((f) => /\.ts$/.test(f) && !f.startsWith('golden/'))
      .map((f) => readFileSync(path.join(testDir, f), 'utf8'))
      .filter((text) => /\bexpectGolden\(/.test(text));
    expect(sources.length, 'no test source calls expectGolden').toBeGreaterThan(0);
    const named = (name: string): boolean => sources.some((text) => ["'", '"', '`'].some((q) => text.includes(`${q}${name}${q}`)));
    const unused = golden.filter((name) => !named(name)).map((name) => `test/golden/${name}`);
    expect(unused, `golden files no test compares against (delete them, or name them in expectGolden): ${unused.join(', ')}`).toEqual([]);
  });
});
