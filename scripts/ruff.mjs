#!/usr/bin/env node
// Lints the project's Python (the rpm helper that runs in build containers, the stand-in yum and
// dnf modules of its tests, the runtime derivation script) with Ruff, part of `npm run lint`.
// Ruff is not among Debian 12's packages and CI installs only Debian and npm packages, so this is
// Ruff's own WebAssembly build from npm, driven here: `ruff check` is not in it.
//
//   node scripts/ruff.mjs [FILE.py...]    (default: every .py file git knows of, tracked or new)
//
// Prints `file:line:column: CODE message` for each finding and exits 1 if there is any.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { PositionEncoding, Workspace } from '@astral-sh/ruff-wasm-nodejs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

const SETTINGS = {
  // the helper must also run under AL2's Python 2.7, which Ruff cannot target; 3.7 is its oldest
  'target-version': 'py37',
  // the width the TypeScript is formatted to (biome.jsonc), which the Python follows
  'line-length': 180,
  lint: {
    // pyflakes (F: undefined and unused names, redefinitions) and pycodestyle's errors and
    // warnings (E, W: syntax, imports, bare except, `== None`, ambiguous names, invalid escapes,
    // overlong lines). Ruff's stable E set leaves out pycodestyle's layout rules (E1-E3, preview
    // only), and so does this: preview's F401 also takes `import dnf.exceptions`, which loads the
    // submodule the helper reaches as self.dnf.exceptions, for an unused import
    select: ['E', 'F', 'W'],
  },
};

function pythonFiles() {
  const out = execFileSync('git', ['ls-files', '--cached', '--others', '--exclude-standard', '-z', '--', '*.py'], { cwd: root, encoding: 'utf8' });
  return [...new Set(out.split('\0').filter(Boolean))].sort();
}

const files = process.argv.length > 2 ? process.argv.slice(2).map((f) => path.relative(root, path.resolve(f))) : pythonFiles();
if (files.length === 0) {
  console.error('ruff: no Python files found');
  process.exit(2);
}

const workspace = new Workspace(SETTINGS, PositionEncoding.Utf16);
let findings = 0;
for (const file of files) {
  const found = workspace.check(readFileSync(path.join(root, file), 'utf8'));
  found.sort((a, b) => a.start_location.row - b.start_location.row || a.start_location.column - b.start_location.column);
  for (const d of found) {
    findings++;
    // a syntax error has no rule code: Ruff's name for it
    console.log(`${file}:${d.start_location.row}:${d.start_location.column}: ${d.code ?? 'invalid-syntax'} ${d.message}`);
  }
}
if (findings) {
  console.log(`ruff ${Workspace.version()}: ${findings} finding${findings === 1 ? '' : 's'} in ${files.length} Python files`);
  process.exit(1);
}
console.log(`ruff ${Workspace.version()}: ${files.length} Python files, no findings`);
