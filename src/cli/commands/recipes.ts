import type { Command } from '@commander-js/extra-typings';
import path from 'node:path';
import { loadRecipes } from '../../recipes/load.js';
import { collect, type OptionsOf } from '../options.js';

function declareRecipes(program: Command) {
  return program
    .command('recipes')
    .description('List the relocation recipes (recipes/*.json and --recipes directories): per-package environment, generated files, smoke tests')
    .option('--recipes <dir>', 'also read recipes from this directory (repeatable)', collect, [])
    .option('--json', 'machine-readable output');
}

export type RecipesOptions = OptionsOf<ReturnType<typeof declareRecipes>>;

export function registerRecipes(program: Command): void {
  declareRecipes(program).action((opts) => recipesCommand(opts));
}

/** `yumda recipes`: the relocation recipes in force, and what each does. */
export function recipesCommand(opts: RecipesOptions): void {
  const recipes = loadRecipes(opts.recipes.map((r) => path.resolve(r)));
  if (opts.json) {
    process.stdout.write(JSON.stringify(recipes, null, 2) + '\n');
    return;
  }
  for (const r of recipes) {
    const what = [
      r.env && Object.keys(r.env).length ? `env ${Object.keys(r.env).join(', ')}` : '',
      r.postStage?.length ? `${r.postStage.length} post-stage command(s)` : '',
      r.binaryStrings?.length ? 'binary strings' : '',
      r.generate?.length ? `${r.generate.length} generated file(s)` : '',
      r.drop?.length ? 'drops' : '',
      r.smoke?.length ? `${r.smoke.length} smoke test(s)` : '',
    ].filter(Boolean);
    process.stdout.write(
      `${r.name}  (deb: ${r.packages.deb?.join(', ') ?? '-'}; rpm: ${r.packages.rpm?.join(', ') ?? '-'})\n` +
        `  ${what.join('; ') || 'no rules'}\n  ${r.description}\n  ${r.file}\n\n`,
    );
  }
}
