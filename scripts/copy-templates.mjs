// tsc compiles src/ into dist/src/ and copies nothing else, but the compiled modules read their
// shell templates (src/**/*.sh, src/util/template.ts) from beside themselves: they are copied
// here. A template no longer in src/ goes from dist/ too, so no build ships a stale one.
import { copyFileSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const from = path.join(root, 'src');
const to = path.join(root, 'dist', 'src');
const templates = (dir) => readdirSync(dir, { recursive: true }).filter((f) => f.endsWith('.sh'));

const wanted = new Set(templates(from));
mkdirSync(to, { recursive: true });
for (const f of templates(to)) if (!wanted.has(f)) rmSync(path.join(to, f));
for (const f of wanted) {
  mkdirSync(path.dirname(path.join(to, f)), { recursive: true });
  copyFileSync(path.join(from, f), path.join(to, f));
}
