import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { repoRoot, run } from '../helpers/cli.js';
import { tempDir } from '../helpers/tmp.js';

/**
 * `npm run lint` lints the Python with scripts/ruff.mjs (Ruff's WebAssembly build). A clean run
 * says nothing about whether it looks: a settings mistake that selects no rule, or a file list
 * that misses the helper, would pass as well. So it is shown Python with one finding of each kind
 * it is meant to catch, and must name every one and fail.
 */
const SCRIPT = path.join(repoRoot, 'scripts/ruff.mjs');

const BAD = [
  'import os',
  'import glob',
  '',
  '',
  'def f(x):',
  '    l = x',
  '    if l == None:',
  '        return undefined_name',
  '    try:',
  '        return "\\d"',
  '    except:',
  '        return 1 ',
  '',
  '',
  // a line of one long word is exempt from E501 (a URL): this one has spaces
  `f("${'word '.repeat(36)}")`,
  '',
].join('\n');

describe('the Python lint (scripts/ruff.mjs)', () => {
  it('names each finding as file:line:column, and fails', async () => {
    const dir = tempDir('yumda-ruff-');
    writeFileSync(path.join(dir, 'bad.py'), BAD);
    const r = await run(process.execPath, [SCRIPT, path.join(dir, 'bad.py')], { cwd: repoRoot });
    expect(r.code, r.stderr).toBe(1);
    const where = path.relative(repoRoot, path.join(dir, 'bad.py'));
    expect(r.stdout.trim().split('\n')).toEqual([
      `${where}:1:8: F401 \`os\` imported but unused`,
      `${where}:2:8: F401 \`glob\` imported but unused`,
      `${where}:6:5: E741 Ambiguous variable name: \`l\``,
      `${where}:7:13: E711 Comparison to \`None\` should be \`cond is None\``,
      `${where}:8:16: F821 Undefined name \`undefined_name\``,
      `${where}:10:17: W605 Invalid escape sequence: \`\\d\``,
      `${where}:11:5: E722 Do not use bare \`except\``,
      `${where}:12:17: W291 Trailing whitespace`,
      `${where}:15:181: E501 Line too long (185 > 180)`,
      expect.stringMatching(/^ruff \d+\.\d+\.\d+: 9 findings in 1 Python files$/),
    ]);
  });

  it("lints the repository's Python: the helper, its test stand-ins, the runtime derivation", async () => {
    const r = await run(process.execPath, [SCRIPT], { cwd: repoRoot });
    expect(r.code, r.stdout + r.stderr).toBe(0);
    const n = Number(/(\d+) Python files, no findings/.exec(r.stdout)?.[1]);
    // images/helpers/yumda_rpm.py, registry/runtimes/derive/amazon-linux.py and test/fakes/rpm's nine
    expect(n).toBeGreaterThanOrEqual(11);
  });
});
