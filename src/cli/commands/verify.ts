import path from 'node:path';
import { withLayerContents } from '../../layer/open.js';
import { loadRuntime, loadTarget } from '../../registry/load.js';
import { UserError } from '../../util/errors.js';
import { printable } from '../../util/printable.js';
import { runVerification, verdict } from '../../check/verification.js';
import { Reporter, outputMode } from '../ui.js';

export interface VerifyOptions {
  target?: string;
  run: string[];
  recipes: string[];
  timeout: string;
  network?: string;
  json?: boolean;
  quiet?: boolean;
}

/** `yumda verify FILE`: one line per check, non-zero exit when any fails. */
export async function verifyCommand(file: string, opts: VerifyOptions): Promise<void> {
  const ui = new Reporter(outputMode(opts));
  const abs = path.resolve(file);
  await withLayerContents(abs, async (layer, tree) => {
    const targetId = opts.target ?? layer.manifest?.target;
    if (!targetId) throw new UserError(`${file} has no yumda manifest to say which target it is for`, { hint: 'give --target' });
    if (opts.target && layer.manifest && layer.manifest.target !== opts.target) {
      ui.warn(printable(`${file} was built for ${layer.manifest.target}; verifying it against ${opts.target} as asked`));
    }
    const runtime = loadRuntime(loadTarget(targetId).runtime);
    const v = await runVerification(tree, layer.manifest, runtime, opts, ui);
    if (opts.json) {
      process.stdout.write(
        JSON.stringify(
          {
            file,
            target: targetId,
            runtime: runtime.id,
            image: v.image,
            passed: v.passed,
            checks: v.checks.map(({ closure, ...c }) => ({ ...c, ...(closure ? { checked: closure.checked, missing: closure.missing, unreadable: closure.unreadable } : {}) })),
          },
          null,
          2,
        ) + '\n',
      );
    } else if (!opts.quiet || !v.passed) {
      process.stdout.write(verdict(v) + '\n');
    }
    if (!v.passed) process.exitCode = 1;
  });
}
