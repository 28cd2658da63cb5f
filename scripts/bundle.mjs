// Bundles the compiled CLI (dist/src/cli/main.js and everything it imports, with its npm
// dependencies) into dist/bundle/, the `yumda` that package.json's bin runs. Node's ESM loader
// resolves, stats, reads and links each of the ~270 module files one by one: that was 0.4 s of
// every command, `--version` included, before any work (issue 24: a warm rebuild's profile).
//
// What stays outside, loaded from node_modules when first used: the AWS SDK (publishing only,
// imported lazily) and what the code loads with createRequire (yaml, the precompiled schema
// validators' ajv runtime). Lazy own imports become chunks of their own (splitting), so a
// command does not load what only another command uses.
//
// The modules find their shell templates, schemas and the project root from `import.meta.url`.
// In a bundle that would be the bundle's own address, so each module's `import.meta.url` is
// replaced with its original file's address, written relative to the bundle: dist/src/ ships
// beside dist/bundle/, and the package still works wherever npm puts it.
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build, version as esbuildVersion } from 'esbuild';

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const outdir = path.join(root, 'dist', 'bundle');

const ownModuleUrl = {
  name: 'own-module-url',
  setup(b) {
    b.onLoad({ filter: /\.[cm]?js$/ }, async (args) => {
      const text = await readFile(args.path, 'utf8');
      if (!text.includes('import.meta.url')) return { contents: text, loader: 'js' };
      const rel = `./${path.relative(outdir, args.path).split(path.sep).join('/')}`;
      return { contents: text.replaceAll('import.meta.url', `new URL(${JSON.stringify(rel)}, import.meta.url).href`), loader: 'js' };
    });
  },
};

const options = {
  absWorkingDir: root,
  entryPoints: { yumda: path.join(root, 'dist', 'src', 'cli', 'main.js') },
  outdir,
  bundle: true,
  splitting: true,
  chunkNames: 'chunk-[hash]',
  platform: 'node',
  format: 'esm',
  target: 'node20',
  external: ['@aws-sdk/*', '@smithy/*'],
  plugins: [ownModuleUrl],
  // bundled CommonJS dependencies (commander, semver, yauzl) call require() for node's modules
  banner: { js: "import { createRequire as yumdaCreateRequire } from 'node:module'; const require = yumdaCreateRequire(import.meta.url);" },
  logLevel: 'warning',
};

// The digest of what the bundle is made of: every module it takes in (yumda's and its
// dependencies', as esbuild's metafile names them), everything else of dist/src (the templates
// and schema validators the modules read), and the bundler. A finished build is reused only by
// the same code (src/pipeline/reuse.ts CODE_DIGEST); the version and the data read at run time
// are in the reuse key themselves.
const { metafile } = await build({ ...options, write: false, metafile: true, define: { YUMDA_CODE_DIGEST: 'undefined' } });
const src = path.join(root, 'dist', 'src');
const files = new Set([
  ...Object.keys(metafile.inputs).map((f) => path.resolve(root, f)),
  ...readdirSync(src, { recursive: true, withFileTypes: true })
    .filter((d) => d.isFile())
    .map((d) => path.join(d.parentPath, d.name)),
]);
const code = createHash('sha256').update(`esbuild ${esbuildVersion}\n`);
for (const f of [...files].sort()) code.update(`${path.relative(root, f)}\n`).update(readFileSync(f));

await rm(outdir, { recursive: true, force: true });
await build({ ...options, define: { YUMDA_CODE_DIGEST: JSON.stringify(code.digest('hex')) } });
