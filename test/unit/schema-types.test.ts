import { readFileSync } from 'node:fs';
import path from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { repoRoot } from '../helpers/cli.js';

/**
 * The JSON schemas in schema/ validate what users and yumda write; the TypeScript types describe
 * what the code reads. They are written by hand, twice, so they are compared here field by field
 * (names, which are required, nested objects and arrays): a field added to one and not the other
 * fails this test.
 */
type Schema = {
  type?: string | string[];
  properties?: Record<string, Schema>;
  required?: string[];
  items?: Schema;
  anyOf?: Schema[];
  oneOf?: Schema[];
  $ref?: string;
  definitions?: Record<string, Schema>;
};

const PAIRS: Array<{ schema: string; file: string; type: string; codeOnly?: string[]; definition?: string }> = [
  { schema: 'manifest', file: 'src/project/manifest.ts', type: 'ProjectDocument' },
  { schema: 'layer-manifest', file: 'src/format/layer-manifest.ts', type: 'LayerManifest' },
  { schema: 'lock', file: 'src/project/lock.ts', type: 'LockFile' },
  { schema: 'runtime', file: 'src/registry/types.ts', type: 'Runtime' },
  { schema: 'target', file: 'src/registry/types.ts', type: 'Target' },
  { schema: 'unusable', file: 'src/registry/types.ts', type: 'UnusableOnLambda' },
  { schema: 'package-names', file: 'src/registry/types.ts', type: 'PackageNamePairs' },
  // `file` is where the loader read the recipe from, not part of the document
  { schema: 'recipe', file: 'src/recipes/types.ts', type: 'Recipe', codeOnly: ['file'] },
  // the rpm helper's replies: one definition per command, each the type its call sites get
  ...(
    [
      ['refresh', 'RefreshReply'],
      ['resolve', 'ResolveReply'],
      ['versions', 'VersionsReply'],
      ['provides', 'ProvidesReply'],
      ['search', 'SearchReply'],
      ['names', 'NamesReply'],
      ['download', 'DownloadReply'],
      ['error', 'ErrorReply'],
    ] as const
  ).map(([definition, type]) => ({ schema: 'rpm-helper-reply', file: 'src/backends/rpm/helper-reply.ts', type, definition })),
];

const program = ts.createProgram(
  PAIRS.map((p) => path.join(repoRoot, p.file)),
  { target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.NodeNext, moduleResolution: ts.ModuleResolutionKind.NodeNext, strict: true, skipLibCheck: true },
);
const checker = program.getTypeChecker();

function declaredType(file: string, name: string): ts.Type {
  const source = program.getSourceFile(path.join(repoRoot, file))!;
  for (const s of source.statements) {
    if ((ts.isInterfaceDeclaration(s) || ts.isTypeAliasDeclaration(s)) && s.name.text === name) return checker.getTypeAtLocation(s.name);
  }
  throw new Error(`${name} not found in ${file}`);
}

const isObjectType = (t: ts.Type) => (t.flags & ts.TypeFlags.Object) !== 0 && !checker.isArrayType(t);

/** The object (or array) part of a type: `string | {name}` → `{name}`, `T | undefined` → T. */
function structural(t: ts.Type): ts.Type | undefined {
  const members = t.isUnion() ? t.types : [t];
  return members.find((m) => isObjectType(m) || checker.isArrayType(m));
}

/** Follows a local `$ref` (a JSON pointer such as `#/definitions/rules/env`). */
function deref(s: Schema, root: Schema): Schema {
  while (s.$ref)
    s = s.$ref
      .slice(2)
      .split('/')
      .reduce<Record<string, unknown>>((node, key) => node[key] as Record<string, unknown>, root as Record<string, unknown>) as Schema;
  return s;
}

function compare(t: ts.Type, given: Schema, root: Schema, where: string, codeOnly: string[], problems: string[]): void {
  const s = deref(given, root);
  const alternatives = s.anyOf ?? s.oneOf;
  const shape = alternatives ? alternatives.map((a) => deref(a, root)).find((a) => a.properties || a.items) : s;
  const code = structural(t);
  if (!shape || !code) return;
  if (shape.items && checker.isArrayType(code)) {
    compare(checker.getTypeArguments(code as ts.TypeReference)[0]!, shape.items, root, `${where}[]`, codeOnly, problems);
    return;
  }
  if (!shape.properties || !isObjectType(code)) return;
  const props = new Map(checker.getPropertiesOfType(code).map((p) => [p.name, p]));
  const schemaNames = new Set(Object.keys(shape.properties).filter((n) => n !== '$schema'));
  for (const n of schemaNames) if (!props.has(n)) problems.push(`${where}.${n}: in the schema, not in the type`);
  for (const [n, p] of props) {
    if (!schemaNames.has(n)) {
      if (!codeOnly.includes(n)) problems.push(`${where}.${n}: in the type, not in the schema`);
      continue;
    }
    const optional = (p.flags & ts.SymbolFlags.Optional) !== 0;
    const required = (shape.required ?? []).includes(n);
    if (optional === required) problems.push(`${where}.${n}: ${required ? 'required in the schema, optional in the type' : 'optional in the schema, required in the type'}`);
    compare(checker.getTypeOfSymbol(p), shape.properties[n]!, root, `${where}.${n}`, codeOnly, problems);
  }
}

describe('JSON schemas match the TypeScript types', () => {
  it.each(PAIRS.map((p) => [`${p.schema}.schema.json${p.definition ? `#${p.definition}` : ''} ~ ${p.type}`, p] as const))('%s', (_, p) => {
    const schema = JSON.parse(readFileSync(path.join(repoRoot, 'schema', `${p.schema}.schema.json`), 'utf8')) as Schema;
    const problems: string[] = [];
    const part = p.definition ? schema.definitions![p.definition]! : schema;
    compare(declaredType(p.file, p.type), part, schema, p.type, p.codeOnly ?? [], problems);
    expect(problems).toEqual([]);
  });

  it('notices a field the type lacks (the check itself can fail)', () => {
    const schema = JSON.parse(readFileSync(path.join(repoRoot, 'schema', 'manifest.schema.json'), 'utf8')) as Schema;
    schema.definitions!.layer!.properties!.surprise = { type: 'string' };
    const problems: string[] = [];
    compare(declaredType('src/project/manifest.ts', 'ProjectDocument'), schema, schema, 'ProjectDocument', [], problems);
    expect(problems).toEqual(['ProjectDocument.layers[].surprise: in the schema, not in the type']);
  });
});
