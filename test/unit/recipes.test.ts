import { skippedPostStage } from '../../src/stage/staging.js';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { applicableRecipes, loadRecipeFile, loadRecipes, upstreamSemver } from '../../src/recipes/load.js';
import { tempDir } from '../helpers/tmp.js';

function writeRecipe(doc: unknown): string {
  const d = tempDir();
  const f = path.join(d, 'r.json');
  writeFileSync(f, JSON.stringify(doc));
  return f;
}

describe('recipes', () => {
  it('every built-in recipe validates against the schema', () => {
    const all = loadRecipes();
    expect(all.map((r) => r.name)).toEqual(expect.arrayContaining(['fontconfig', 'poppler-utils']));
  });

  it('rejects a wrong field, naming the file and the field', () => {
    const f = writeRecipe({ name: 'x', description: 'd', packages: { deb: ['x'] }, env: { FOO: 1 } });
    expect(() => loadRecipeFile(f)).toThrow(`${f}: field 'env.FOO' must be string`);
    const g = writeRecipe({ name: 'x', description: 'd', packages: { deb: ['x'] }, enviroment: {} });
    expect(() => loadRecipeFile(g)).toThrow(`${g}: unknown field 'enviroment'`);
    const h = writeRecipe({ name: 'x', description: 'd', packages: { deb: ['x'] }, smoke: [{ run: 'x' }] });
    expect(() => loadRecipeFile(h)).toThrow(`${h}: in 'smoke.0': missing required field 'expect'`);
    const i = writeRecipe({ name: 'x', description: 'd', packages: { deb: ['x'] }, variants: [{ versions: 'not a range!' }] });
    expect(() => loadRecipeFile(i)).toThrow(`${i}: field 'variants.0.versions' is not a semver range`);
  });

  it('applies a recipe when its package is anywhere in the closure, with the variants of its version', () => {
    const d = tempDir();
    mkdirSync(path.join(d, 'r'));
    writeFileSync(
      path.join(d, 'r', 'lib.json'),
      JSON.stringify({
        name: 'lib',
        description: 'd',
        packages: { deb: ['libfoo1'], rpm: ['foo-libs'] },
        env: { A: '1' },
        variants: [
          { versions: '<2', env: { OLD: 'yes' } },
          { versions: '>=2', env: { NEW: 'yes' } },
        ],
      }),
    );
    const recipes = loadRecipes([path.join(d, 'r')]);
    const old = applicableRecipes(recipes, 'deb', [
      { name: 'app', version: '1' },
      { name: 'libfoo1', version: '1:1.9.3-2+b1' },
    ]).find((r) => r.name === 'lib');
    expect(old?.rules.env).toEqual({ A: '1', OLD: 'yes' });
    const neu = applicableRecipes(recipes, 'rpm', [{ name: 'foo-libs', version: '2.1-3.amzn2023' }]).find((r) => r.name === 'lib');
    expect(neu?.rules.env).toEqual({ A: '1', NEW: 'yes' });
    expect(applicableRecipes(recipes, 'deb', [{ name: 'foo-libs', version: '2' }]).find((r) => r.name === 'lib')).toBeUndefined();
  });

  it('reads the upstream version of distro versions', () => {
    expect(upstreamSemver('1:2.14.1-4+b1')).toBe('2.14.1');
    expect(upstreamSemver('22.12.0-2+deb12u2')).toBe('22.12.0');
    expect(upstreamSemver('2.9.14-1.amzn2023.0.1')).toBe('2.9.14');
  });
});

describe('a recipe step that cannot run', () => {
  it('says what the layer will lack, from the recipe, before the command and why (issue 13)', () => {
    const graphviz = loadRecipes().find((r) => r.name === 'graphviz')!;
    const step = graphviz.postStage![0]!;
    const why = 'the Docker engine is x86_64 and does not run arm64 programs: exec format error';
    expect(skippedPostStage({ recipe: 'graphviz', ...step }, 'arm64', why)).toBe(
      `the layer will lack graphviz: no output formats (dot -T says Format not recognized): recipe step '${step.run}' was skipped (it runs the packages' arm64 programs; ${why})`,
    );
    expect(skippedPostStage({ recipe: 'x', run: 'x -c' }, 'arm64', why)).toMatch(/^the layer will lack x: what its command generates: recipe step 'x -c' was skipped/);
  });
});
