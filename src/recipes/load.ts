import { readdirSync } from 'node:fs';
import path from 'node:path';
import semver from 'semver';
import { UserError } from '../util/errors.js';
import { projectRoot } from '../util/paths.js';
import { readDocument } from '../util/schema.js';
import type { PackageFamily } from '../registry/types.js';
import type { AppliedRecipe, Recipe, RecipeRules } from './types.js';

export const builtinRecipeDir = path.join(projectRoot, 'recipes');

/** Reads and validates one recipe file; errors name the file and the field. */
export function loadRecipeFile(file: string): Recipe {
  const recipe = readDocument<Recipe>('recipe', file);
  for (const [i, v] of (recipe.variants ?? []).entries()) {
    if (!semver.validRange(v.versions)) {
      throw new UserError(`${file}: field 'variants.${i}.versions' is not a semver range ('${v.versions}')`);
    }
  }
  for (const [i, s] of (recipe.smoke ?? []).entries()) {
    try {
      new RegExp(s.expect);
    } catch {
      throw new UserError(`${file}: field 'smoke.${i}.expect' is not a regular expression ('${s.expect}')`);
    }
  }
  return { ...recipe, file };
}

/** Built-in recipes plus those in `extraDirs` (a later recipe of the same name replaces an earlier one). */
export function loadRecipes(extra: string[] = []): Recipe[] {
  const byName = new Map<string, Recipe>();
  const files: string[] = [];
  for (const d of [builtinRecipeDir, ...extra]) {
    let names: string[];
    try {
      names = readdirSync(d)
        .filter((f) => f.endsWith('.json'))
        .sort()
        .map((f) => path.join(d, f));
    } catch {
      if (d.endsWith('.json')) names = [d];
      else throw new UserError(`recipe directory ${d} cannot be read`);
    }
    files.push(...names);
  }
  for (const f of files) {
    const r = loadRecipeFile(f);
    byName.set(r.name, r);
  }
  return [...byName.values()].sort((a, b) => a.name.localeCompare(b.name));
}

/** The upstream part of a distro version (`1:2.14.1-4+b1` → `2.14.1`), coerced to semver. */
export function upstreamSemver(version: string): string | undefined {
  const noEpoch = version.replace(/^\d+:/, '');
  const upstream = noEpoch.replace(/-[^-]*$/, '');
  return semver.coerce(upstream)?.version;
}

function merge(into: AppliedRecipe['rules'], r: RecipeRules): void {
  Object.assign(into.env, r.env ?? {});
  into.envFor.sonames.push(...(r.envFor?.sonames ?? []));
  into.envFor.programs.push(...(r.envFor?.programs ?? []));
  into.rewrite.push(...(r.rewrite ?? []));
  into.drop.push(...(r.drop ?? []));
  into.keep.push(...(r.keep ?? []));
  into.generate.push(...(r.generate ?? []));
  into.smoke.push(...(r.smoke ?? []));
  into.postStage.push(...(r.postStage ?? []));
  into.binaryStrings.push(...(r.binaryStrings ?? []));
}

/**
 * The recipes that apply to a closure: each recipe whose package list (for this family) names a
 * package in the closure, with the variants for that package's version merged in.
 */
export function applicableRecipes(recipes: Recipe[], family: PackageFamily, closure: ReadonlyArray<{ name: string; version: string }>): AppliedRecipe[] {
  const out: AppliedRecipe[] = [];
  for (const recipe of recipes) {
    const names = recipe.packages[family] ?? [];
    const hit = closure.find((p) => names.includes(p.name));
    if (!hit) continue;
    const rules = emptyRules();
    merge(rules, recipe);
    const v = upstreamSemver(hit.version);
    for (const variant of recipe.variants ?? []) {
      if (v && semver.satisfies(v, variant.versions)) merge(rules, variant);
    }
    out.push({ name: recipe.name, file: recipe.file, matchedPackage: hit.name, matchedVersion: hit.version, rules });
  }
  return out;
}

/** The rules of a recipe that says nothing: what every applied recipe starts from. */
export function emptyRules(): AppliedRecipe['rules'] {
  return { env: {}, envFor: { sonames: [], programs: [] }, rewrite: [], drop: [], keep: [], generate: [], smoke: [], postStage: [], binaryStrings: [] };
}
