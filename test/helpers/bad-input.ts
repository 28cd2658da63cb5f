import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { expect } from 'vitest';
import { runYumda } from './cli.js';
import { tempDir } from './tmp.js';

/**
 * Issue 10's table of inputs that gave a stack trace (exit 70), destroyed a directory or wrote
 * where they should not: each must now give exactly one `yumda: error:` line, exit 1, and leave
 * the working directory as it was. Each case makes its own directory (`d`) with a manifest,
 * a lock, a source file and a sibling directory beside it, and runs from there. The cases refused
 * before any engine is reached are in test/unit/bad-input.test.ts, the others in test/e2e.
 */
export interface BadInputCase {
  name: string;
  args: (d: string) => string[];
  /** Files to add to the case's directory before running. */
  files?: Record<string, string>;
  error: RegExp;
}

export const MANIFEST = (outputs: string) => `layers:\n  - name: jq\n    target: debian12\n    packages: [jq]\n    outputs: ${outputs}\n`;
const YUMDA_LOCK = '{"lockfileVersion":1,"layers":[]}\n';

function snapshot(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else out[path.relative(dir, p)] = readFileSync(p, 'utf8');
    }
  };
  walk(dir);
  return out;
}

/** Runs one case (with `env` added to CI=true) and checks its one line, its exit code and that nothing changed. */
export async function expectRefused(c: BadInputCase, env: Record<string, string> = {}): Promise<void> {
  const root = tempDir('yumda-bad-');
  const d = path.join(root, 'project');
  mkdirSync(path.join(d, 'src'), { recursive: true });
  mkdirSync(path.join(root, 'sibling'));
  writeFileSync(path.join(root, 'sibling', 'precious.txt'), 'keep me');
  writeFileSync(path.join(d, 'src', 'main.c'), 'int main(void) { return 0; }\n');
  writeFileSync(path.join(d, 'yumda.lock'), YUMDA_LOCK);
  for (const [f, text] of Object.entries(c.files ?? {})) writeFileSync(path.join(d, f), text);
  const before = snapshot(root);
  const r = await runYumda(c.args(d), { cwd: d, env: { CI: 'true', ...env } });
  const lines = r.stderr.split('\n').filter((l) => l.startsWith('yumda:') || /^\s+at /.test(l) || l.includes('internal error'));
  expect(lines, r.stderr).toHaveLength(1);
  expect(lines[0]).toMatch(/^yumda: error: /);
  expect(lines[0]).toMatch(c.error);
  expect(r.code).toBe(1);
  expect(snapshot(root)).toEqual(before);
}
