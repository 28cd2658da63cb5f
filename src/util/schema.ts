import type { Ajv, ErrorObject, ValidateFunction } from 'ajv';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { UserError } from './errors.js';
import { readInputText } from './input.js';
import { projectRoot } from './paths.js';
import { nearestNames } from './nearest.js';
import { loadAjv, precompiledValidators } from './schema-compiled.js';

const OPTIONS = { strict: true, allowUnionTypes: true } as const;
let ajv: Ajv | undefined;
/** Every error, with the schema that made it: asked only once a document failed, to pick the error to tell. */
let ajvAll: Ajv | undefined;
const compiled = new Map<string, ValidateFunction>();

function compiler(all: boolean): Ajv {
  const Ajv = loadAjv();
  if (all) {
    ajvAll ??= new Ajv({ ...OPTIONS, allErrors: true, verbose: true });
    return ajvAll;
  }
  ajv ??= new Ajv({ ...OPTIONS, allErrors: false });
  return ajv;
}

/**
 * The schema's validator: the one compiled at build time when it was made from this schema text,
 * else compiled now with ajv (as is the every-error one, asked only on failure).
 */
function validator(schemaName: string, all = false): ValidateFunction {
  const key = `${all ? 'all:' : ''}${schemaName}`;
  let v = compiled.get(key);
  if (!v) {
    const text = readFileSync(path.join(projectRoot, 'schema', `${schemaName}.schema.json`), 'utf8');
    v = all ? undefined : precompiledValidators(schemaName, text)?.schema;
    if (!v) {
      v = compiler(all).compile(JSON.parse(text));
    }
    compiled.set(key, v);
  }
  return v;
}

/**
 * The error to tell: the first, except that a field missing where an unknown one is present is
 * the unknown one misspelt (`package: [jq]` for `packages`), and that is what the user fixes; an
 * unknown field gets the nearest known one as its hint.
 */
function errorToTell(schemaName: string, doc: unknown, first: ErrorObject | undefined): { err: ErrorObject | undefined; hint?: string } {
  if (first?.keyword !== 'required' && first?.keyword !== 'additionalProperties') return { err: first };
  const all = validator(schemaName, true);
  all(doc);
  const unknown = all.errors?.find((e) => e.keyword === 'additionalProperties' && e.instancePath === first.instancePath);
  if (!unknown) return { err: first };
  const known = Object.keys((unknown.parentSchema as { properties?: Record<string, unknown> } | undefined)?.properties ?? {}).filter((k) => k !== '$schema');
  const near = nearestNames((unknown.params as { additionalProperty: string }).additionalProperty, known, 1);
  return { err: unknown, ...(near.length ? { hint: `did you mean '${near[0]}'?` } : {}) };
}

/** "field 'env.FOO' must be string": names the field the way a user wrote it. */
export function describeSchemaError(err: ErrorObject): string {
  const field = err.instancePath.replace(/^\//, '').replace(/\//g, '.');
  const where = field === '' ? 'the document' : `field '${field}'`;
  switch (err.keyword) {
    case 'additionalProperties':
      return `${field === '' ? '' : `in '${field}': `}unknown field '${(err.params as { additionalProperty: string }).additionalProperty}'`;
    case 'required':
      return `${field === '' ? '' : `in '${field}': `}missing required field '${(err.params as { missingProperty: string }).missingProperty}'`;
    case 'enum':
      return `${where} must be one of ${(err.params as { allowedValues: unknown[] }).allowedValues.map((v) => JSON.stringify(v)).join(', ')}`;
    default:
      return `${where} ${err.message ?? 'is invalid'}`;
  }
}

/**
 * Validates parsed JSON against schema/<name>.schema.json; throws one line naming file and field.
 * `locate` turns the failing field's JSON pointer into a position (`:7:3`) appended to the file
 * name, for formats that keep one (YAML).
 */
export function validateDocument<T>(schemaName: string, doc: unknown, file: string, locate?: (pointer: string) => string | undefined): T {
  const v = validator(schemaName);
  if (!v(doc)) {
    const { err, hint } = errorToTell(schemaName, doc, v.errors?.[0]);
    const at = err && locate ? (locate(err.instancePath) ?? '') : '';
    throw new UserError(`${file}${at}: ${err ? describeSchemaError(err) : 'does not match its schema'}`, hint ? { hint } : {});
  }
  return doc as T;
}

/** What each kind of document is called in a message about a file that is not one. */
const DOCUMENT_WHAT: Record<string, string> = { runtime: 'a runtime manifest', recipe: 'a recipe', target: 'a target' };

/** Reads and validates a JSON file; syntax errors name the file too. */
export function readDocument<T>(schemaName: string, file: string): T {
  const text = readInputText(file, DOCUMENT_WHAT[schemaName] ?? `a ${schemaName} document`);
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    throw new UserError(`${file}: not valid JSON (${(e as Error).message})`);
  }
  return validateDocument<T>(schemaName, doc, file);
}
