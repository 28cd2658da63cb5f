import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { DEFAULT_KEEP } from '../../src/relocate/placement.js';
import { relocate } from '../../src/relocate/relocate.js';
import type { AppliedRecipe } from '../../src/recipes/types.js';
import { emptyRules } from '../../src/recipes/load.js';
import { readContent } from '../../src/tree/types.js';
import { file, treeOf } from '../helpers/tree.js';
import { wrapperScript } from '../../src/relocate/wrappers.js';
import { tempDir } from '../helpers/tmp.js';
import { run } from '../helpers/cli.js';
import { EXEC_WRAPPER_PATH } from '../../src/format/lambda.js';

const fontconfig: AppliedRecipe = {
  name: 'fontconfig',
  file: undefined,
  matchedPackage: 'fontconfig-config',
  matchedVersion: '1',
  rules: { ...emptyRules(), env: { FONTCONFIG_PATH: '/opt/etc/fonts' }, envFor: { sonames: ['libfontconfig.so.1'], programs: [] } },
};

function layerWith(recipes: AppliedRecipe[]) {
  const staged = treeOf([file('/etc/fonts/fonts.conf', '<fontconfig/>', 0o644, 'fontconfig-config')]);
  return relocate({ staged, layout: { triplet: 'x86_64-linux-gnu', keep: DEFAULT_KEEP }, recipes, shell: '/bin/sh' }).layer;
}

/**
 * The layer's exec wrapper (issue 14, in-process use; it applies to unpacked layers too): Lambda
 * runs AWS_LAMBDA_EXEC_WRAPPER with the runtime's command line, so the function's own code gets
 * the environment the layer's libraries need, which a layer cannot set.
 */
describe('/opt/.yumda/exec-wrapper', () => {
  it('sets what the recipes need unless already set, then runs the command with its arguments and status untouched', async () => {
    const e = layerWith([fontconfig]).get(EXEC_WRAPPER_PATH);
    expect(e?.kind === 'file' && e.mode).toBe(0o755);
    const script = path.join(tempDir('yumda-exec-wrapper-'), 'exec-wrapper');
    writeFileSync(script, e?.kind === 'file' ? readContent(e.content) : '', { mode: 0o755 });
    const probe = ['sh', '-c', 'printf "%s|%s|%s\\n" "$FONTCONFIG_PATH" "$1" "$2"; exit 3', 'runtime', 'a b', '$HOME'];
    const r = await run(script, probe, { env: { PATH: process.env.PATH } });
    expect([r.stdout, r.code]).toEqual(['/opt/etc/fonts|a b|$HOME\n', 3]);
    // the function's own configuration wins
    const own = await run(script, probe, { env: { PATH: process.env.PATH, FONTCONFIG_PATH: '/var/task/fonts' } });
    expect(own.stdout).toBe('/var/task/fonts|a b|$HOME\n');
  });

  it('is not written when no library of the layer needs an environment', () => {
    expect(layerWith([]).has(EXEC_WRAPPER_PATH)).toBe(false);
  });
});

describe('the environment lines of wrappers', () => {
  // a value with every character the shells treat specially, a ' above all: bash read one inside
  // "${K:=…}" as an opening quote, and the wrapper failed to start its program
  const value = `/opt/lib/it's here $HOME \`id\` \\ "q" $(id)`;
  it.each(['/bin/sh', '/bin/bash'])('%s sets the value as written, and keeps one the caller set', async (shell) => {
    const d = tempDir();
    const script = path.join(d, 'w');
    writeFileSync(script, wrapperScript(shell, '/usr/bin/env', { ODD: value, EMPTY_BEFORE: '/opt/x' }, ['test']), { mode: 0o755 });
    const set = await run(script, [], { env: { PATH: '/usr/bin:/bin', EMPTY_BEFORE: '' } });
    expect(set.stderr).toBe('');
    expect(set.stdout.split('\n')).toEqual(expect.arrayContaining([`ODD=${value}`, 'EMPTY_BEFORE=/opt/x']));
    const kept = await run(script, [], { env: { PATH: '/usr/bin:/bin', ODD: 'mine' } });
    expect(kept.stdout.split('\n')).toContain('ODD=mine');
  });
});
