import type { Command } from '@commander-js/extra-typings';
import path from 'node:path';
import { withLayerContents } from '../../layer/open.js';
import { loadRuntime, loadTarget } from '../../registry/load.js';
import { UserError } from '../../util/errors.js';
import { printable } from '../../util/printable.js';
import { runVerification, verdict } from '../../check/verification.js';
import { Reporter, outputMode } from '../ui.js';
import { collect, type OptionsOf } from '../options.js';

function declareVerify(program: Command) {
  return program
    .command('verify')
    .description(
      'Check a layer the way Lambda will run it: every ELF file finds its libraries (in the layer or the runtime), and ' +
        "the recipes' smoke tests and your --run commands pass in a Lambda-like container of the target's runtime image " +
        "(layer read-only at /opt, read-only root, only /tmp writable, uid 993, no network, exactly Lambda's PATH and LD_LIBRARY_PATH). " +
        'One line per check; exits non-zero when any fails.',
    )
    .argument('<file>', 'a layer zip, or an image tarball written by `yumda image`')
    .option('-t, --target <id>', "target whose runtime to verify in (default: the one in the layer's manifest)")
    .option('--run <command>', 'also run this shell command; it passes when it exits 0 (repeatable)', collect, [])
    .option('--recipes <dir>', 'directory of extra recipes, for their smoke tests (repeatable)', collect, [])
    .option('--timeout <seconds>', 'time limit of each command', '60')
    .option('--network <mode>', 'Docker network mode for building the runtime image (env YUMDA_DOCKER_NETWORK)')
    .option('--json', 'machine-readable results on stdout')
    .option('-q, --quiet', 'print only failures')
    .addHelpText('after', "\nExample:\n  yumda verify poppler.zip --target debian12 --run 'pdftoppm -v'\n");
}

export type VerifyOptions = OptionsOf<ReturnType<typeof declareVerify>>;

export function registerVerify(program: Command): void {
  declareVerify(program).action((file, opts) => verifyCommand(file, opts));
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
