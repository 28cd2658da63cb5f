/**
 * Validators of schema/*.schema.json compiled at build time (scripts/compile-schemas.mjs), and
 * ajv, loaded only when one is missing or stale. Loading and compiling with ajv took 100–200 ms
 * of every run, a good part of a warm rebuild (issue 24); most runs never need it now.
 *
 * Both are loaded with require(): validation is synchronous all the way up (registry, cache
 * records), and require() is the lazy load that stays synchronous; ajv and the generated files are
 * CommonJS.
 */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Ajv, ValidateFunction } from 'ajv';

const require = createRequire(import.meta.url);

/** Where the build writes them: beside this module in dist/ (absent when the sources run from src/, as in unit tests). */
export const PRECOMPILED_DIR = fileURLToPath(new URL('./schema-validators/', import.meta.url));

/** A generated module: `schema` validates the whole document, other exports one definition each. */
type Precompiled = Record<string, ValidateFunction> & { schemaSha256?: string };

/**
 * The validators generated from this very schema text, or undefined when there are none or they
 * were made from another text (the schema changed after the build): the caller compiles then.
 */
export function precompiledValidators(schemaName: string, schemaText: string, dir = PRECOMPILED_DIR): Precompiled | undefined {
  const file = path.join(dir, `${schemaName}.cjs`);
  if (!existsSync(file)) return undefined;
  const mod = require(file) as Precompiled;
  return mod.schemaSha256 === createHash('sha256').update(schemaText).digest('hex') ? mod : undefined;
}

let ajvClass: typeof Ajv | undefined;

/** ajv's class, loaded on first use. */
export function loadAjv(): typeof Ajv {
  ajvClass ??= (require('ajv') as { Ajv: typeof Ajv }).Ajv;
  return ajvClass;
}
