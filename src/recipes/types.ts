/** A relocation recipe (recipes/*.json, schema/recipe.schema.json). */

export interface SmokeTest {
  run: string;
  /** Regular expression the combined output must match. */
  expect: string;
}

export interface GeneratedFile {
  path: string;
  content: string;
  mode?: string;
}

export interface RecipeRules {
  env?: Record<string, string>;
  envFor?: { sonames?: string[]; programs?: string[] };
  rewrite?: string[];
  drop?: string[];
  keep?: string[];
  generate?: GeneratedFile[];
  smoke?: SmokeTest[];
  /** `without`: what the layer lacks when the command cannot run, for the warning that says so. */
  postStage?: Array<{ run: string; without?: string }>;
  binaryStrings?: Array<{ files: string[]; from: string; to: string }>;
}

export interface Recipe extends RecipeRules {
  name: string;
  description: string;
  packages: { deb?: string[]; rpm?: string[] };
  variants?: Array<RecipeRules & { versions: string }>;
  /** Where the recipe was read from (set by the loader). */
  file?: string;
}

/** A recipe matched against a closure: the package that triggered it and the rules in force. */
export interface AppliedRecipe {
  name: string;
  file: string | undefined;
  matchedPackage: string;
  matchedVersion: string;
  rules: Required<Omit<RecipeRules, 'envFor'>> & { envFor: { sonames: string[]; programs: string[] } };
}
