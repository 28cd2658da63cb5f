import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { fileCache, repoRoot, run } from '../helpers/cli.js';
import { packCheckout } from '../helpers/npm-pack.js';
import { tempDir } from '../helpers/tmp.js';
import { readZip } from '../helpers/zip.js';

/**
 * Issue 22: the GitHub Action. action.yml is a composite action whose one step runs
 * scripts/action.sh with the inputs as INPUT_* variables; the test runs that script as the step
 * would, in a repository with a manifest building jq for debian12, installing this checkout's
 * `npm pack` (the npm registry is needed for the dependencies).
 */
describe('the GitHub Action: scripts/action.sh installs yumda and runs build', () => {
  const project = tempDir('yumda-action-');
  const githubOutput = path.join(tempDir('yumda-action-out-'), 'output');
  let tarball: string;

  beforeAll(async () => {
    tarball = await packCheckout();
    writeFileSync(path.join(project, 'yumda.yaml'), 'layers:\n  - name: jq\n    target: debian12\n    packages: [jq]\n');
    writeFileSync(githubOutput, '');
  });

  const step = (inputs: Record<string, string>, prefix: string) => {
    const env: NodeJS.ProcessEnv = { ...process.env, XDG_CACHE_HOME: fileCache, YUMDA_DOCKER_NETWORK: process.env.YUMDA_DOCKER_NETWORK ?? 'host' };
    delete env.AWS_REGION;
    delete env.AWS_DEFAULT_REGION;
    Object.assign(env, { YUMDA_PACKAGE: tarball, YUMDA_PREFIX: prefix, GITHUB_OUTPUT: githubOutput, ...inputs });
    return run(path.join(repoRoot, 'scripts/action.sh'), [], { cwd: project, env });
  };

  it('action.yml passes every input to the script it runs', () => {
    const action = parse(readFileSync(path.join(repoRoot, 'action.yml'), 'utf8'));
    expect(action.runs.using).toBe('composite');
    const s = action.runs.steps[0];
    expect(s.run).toContain('$GITHUB_ACTION_PATH/scripts/action.sh');
    for (const input of Object.keys(action.inputs)) {
      const name = input === 'yumda-package' ? 'YUMDA_PACKAGE' : `INPUT_${input.toUpperCase().replace(/-/g, '_')}`;
      expect(s.env[name], input).toBe(`\${{ inputs.${input} }}`);
    }
    for (const input of ['manifest', 'layers', 'frozen', 'publish']) expect(action.inputs).toHaveProperty(input);
  });

  it('builds the layer and writes the lock; then --frozen builds from it, and publish with no region fails in one line', async () => {
    const first = await step({ INPUT_FROZEN: 'false', INPUT_PUBLISH: 'false', INPUT_LAYERS: 'jq' }, tempDir('yumda-action-prefix-'));
    expect(first.code, first.stderr).toBe(0);
    const report = JSON.parse(readFileSync(path.join(project, 'yumda-build.json'), 'utf8'));
    expect(report.frozen).toBe(false);
    expect(report.lockWritten).toBe(true);
    const zip = report.layers[0].zip as string;
    expect(path.relative(project, zip)).toBe(path.join('dist', 'jq-x86_64.zip'));
    expect((await readZip(zip)).find((e) => e.name === 'bin/jq')?.kind).toBe('file');
    expect(readFileSync(githubOutput, 'utf8')).toContain(`report=yumda-build.json\nzips<<YUMDA_EOF\n${zip}\nYUMDA_EOF\n`);

    const second = await step({ INPUT_FROZEN: 'true', INPUT_PUBLISH: 'true' }, tempDir('yumda-action-prefix-'));
    expect(JSON.parse(readFileSync(path.join(project, 'yumda-build.json'), 'utf8')).frozen).toBe(true);
    expect(second.code).toBe(2);
    expect(second.stderr.trim().split('\n').at(-1)).toBe("yumda: error: publish needs a region: set the action's regions input or AWS_REGION");
  });
});
