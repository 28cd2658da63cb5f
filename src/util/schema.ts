import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { UserError } from './errors.js';
import { readInputText } from './input.js';
import { projectRoot } from './paths.js';

const ajv = new Ajv({ allErrors: false, strict: true, allowUnionTypes: true });
const compiled = new Map<string, ValidateFunction>();

function validator(schemaName: string): ValidateFunction {
  let v = compiled.get(schemaName);
  if (!v) {
    const schema = JSON.parse(readFileSync(path.join(projectRoot, 'schema', `${schemaName}.schema.json`), 'utf8'));
    v = ajv.compile(schema);
    compiled.set(schemaName, v);
  }
  return v;
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
    const err = v.errors?.[0];
    const at = err && locate ? (locate(err.instancePath) ?? '') : '';
    throw new UserError(`${file}${at}: ${err ? describeSchemaError(err) : 'does not match its schema'}`);
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
