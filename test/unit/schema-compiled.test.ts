import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { Ajv, type ValidateFunction } from 'ajv';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { repoRoot } from '../helpers/cli.js';
import { precompiledValidators } from '../../src/util/schema-compiled.js';

/**
 * Issue 24: the schemas' validators are compiled at build time (scripts/compile-schemas.mjs) so
 * that a run does not load ajv. They must decide as ajv does at run time, and one made from
 * another schema text must never be used.
 */
const schemaText = (name: string) => readFileSync(path.join(repoRoot, 'schema', `${name}.schema.json`), 'utf8');
const json = (file: string) => JSON.parse(readFileSync(path.join(repoRoot, file), 'utf8')) as Record<string, unknown>;

let dir: string;
beforeAll(() => {
  // inside the repository: the generated code requires ajv's run-time helpers (ucs2length,
  // equal) by package name, which resolve from here as they do from dist/ in a package
  mkdirSync(path.join(repoRoot, 'dist'), { recursive: true });
  dir = mkdtempSync(path.join(repoRoot, 'dist', '.schemas-test-'));
  execFileSync(process.execPath, [path.join(repoRoot, 'scripts/compile-schemas.mjs'), path.join(repoRoot, 'schema'), dir]);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function both(name: string): { built: ValidateFunction; ajv: ValidateFunction } {
  const built = precompiledValidators(name, schemaText(name), dir)?.schema;
  if (!built) throw new Error(`no precompiled validator for ${name}`);
  const ajv = new Ajv({ allErrors: false, strict: true, allowUnionTypes: true }).compile(JSON.parse(schemaText(name)));
  return { built, ajv };
}

/** What a validator says of a document: its verdict and its first error, as the messages use it. */
function verdict(v: ValidateFunction, doc: unknown) {
  const ok = v(doc);
  const e = v.errors?.[0];
  return { ok, error: ok ? undefined : { instancePath: e?.instancePath, keyword: e?.keyword, params: e?.params, message: e?.message } };
}

describe('precompiled schema validators', () => {
  const target = json('registry/targets/debian12.json');
  const recipe = json('recipes/fontconfig.json');
  const cases: Array<[string, string, unknown]> = [
    ['target', 'a shipped target', target],
    ['target', 'a missing required field', { ...target, family: undefined }],
    ['target', 'an unknown field', { ...target, famliy: 'apt' }],
    ['target', 'a wrong type', { ...target, architectures: 'x86_64' }],
    ['target', 'a pattern mismatch', { ...target, id: 'Debian 12' }],
    ['recipe', 'a shipped recipe', recipe],
    ['recipe', 'an unknown field', { ...recipe, rulez: {} }],
    ['recipe', 'not an object', ['fontconfig']],
    ['manifest', 'a manifest', { layers: [{ name: 'pdf', target: 'debian12', packages: ['poppler-utils', { name: 'qpdf', version: '1' }] }] }],
    ['manifest', 'a manifest with a bad arch', { layers: [{ name: 'pdf', target: 'debian12', arch: 'sparc', packages: ['x'] }] }],
    ['manifest', 'an empty manifest', {}],
  ];
  it.each(cases)('%s: %s gets the verdict and first error ajv gives', (name, _what, doc) => {
    const { built, ajv } = both(name);
    const clean = JSON.parse(JSON.stringify(doc)) as unknown;
    expect(verdict(built, clean)).toEqual(verdict(ajv, clean));
  });

  it('the rpm helper reply schema is compiled per definition', () => {
    const mod = precompiledValidators('rpm-helper-reply', schemaText('rpm-helper-reply'), dir);
    expect(mod?.names?.({ names: ['jq'] })).toBe(true);
    expect(mod?.names?.({ names: 'jq' })).toBe(false);
    expect(mod?.error?.({ error: { kind: 'repo', message: 'down' } })).toBe(true);
  });

  it('a validator made from another schema text is not used (the caller compiles with ajv)', () => {
    const changed = schemaText('target').replace('"id"', '"id" ');
    expect(precompiledValidators('target', schemaText('target'), dir)).toBeDefined();
    expect(precompiledValidators('target', changed, dir)).toBeUndefined();
    expect(precompiledValidators('no-such-schema', '{}', dir)).toBeUndefined();
  });
});
