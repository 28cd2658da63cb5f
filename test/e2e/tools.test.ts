import { chmodSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadRuntime } from '../../src/registry/load.js';
import { runYumda } from '../helpers/cli.js';
import { tempDir } from '../helpers/tmp.js';
import { ensureRuntimeImage, runLambdaLike, type LambdaRun } from '../helpers/lambda.js';
import { TOOL_CHECKS, TOOLS, writeToolInputs, type Tool } from '../helpers/tool-checks.js';

/**
 * Issue 4's acceptance: real packages relocated to /opt do real work in a Lambda-like debian12
 * container, with Lambda's LD_LIBRARY_PATH and without it.
 */
describe('real tools relocated to /opt (debian12)', () => {
  const work = tempDir('yumda-tools-');
  const inputs = path.join(work, 'in');
  const layers = new Map<string, string>();
  const results = new Map<string, { missingLibraries: unknown[]; elfChecked: number; unrewritable: unknown[] }>();
  let image: string;

  beforeAll(async () => {
    chmodSync(work, 0o755);
    writeToolInputs(inputs);
    const runtime = loadRuntime('debian12');
    image = await ensureRuntimeImage(runtime.verifyImage!.name, runtime.verifyImage!.context);
    for (const tool of TOOLS) {
      const dir = path.join(work, tool);
      const r = await runYumda(['install', tool, '--target', 'debian12', '--out-dir', dir, '--json']);
      if (r.code !== 0) throw new Error(`yumda install ${tool} failed: ${r.stderr.split('\n').slice(-3).join('\n')}`);
      chmodSync(dir, 0o755);
      layers.set(tool, dir);
      results.set(tool, JSON.parse(r.stdout));
    }
  });

  const both = (tool: Tool, name: string, fn: (run: (script: string) => Promise<LambdaRun>) => Promise<void>) => {
    it(`${name} (Lambda's LD_LIBRARY_PATH)`, () => fn((script) => runLambdaLike(image, layers.get(tool)!, script, { work: inputs })));
    it(`${name} (LD_LIBRARY_PATH unset)`, () => fn((script) => runLambdaLike(image, layers.get(tool)!, script, { work: inputs, ldLibraryPath: null })));
  };

  it('every layer passes the closure check: no soname missing from layer and runtime', () => {
    for (const tool of TOOLS) {
      const r = results.get(tool)!;
      expect(r.elfChecked, tool).toBeGreaterThan(5);
      expect(r.missingLibraries, tool).toEqual([]);
    }
  });

  for (const c of TOOL_CHECKS) {
    both(c.tool, c.title, (run) => c.check({ run, inputs, runWith: (tool, script) => runLambdaLike(image, layers.get(tool)!, script, { work: inputs }) }));
  }
});
