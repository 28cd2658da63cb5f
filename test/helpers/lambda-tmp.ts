import { run } from './cli.js';
import { LAMBDA_LD_LIBRARY_PATH, LAMBDA_PATH, type LambdaRun } from './lambda.js';

/**
 * runLambdaLike (test/helpers/lambda.ts) with /tmp a tmpfs of `tmpMb` MiB, as a function's
 * ephemeral storage sizes it: the sandbox flags are the same (read-only root, uid 993, no network,
 * `env -i` with Lambda's PATH and LD_LIBRARY_PATH), the layer read-only at /opt. Kept apart from
 * lambda.ts while that file is being changed elsewhere; it belongs there as an option.
 */
export function runLambdaLikeTmp(image: string, layerDir: string, script: string, tmpMb: number): Promise<LambdaRun> {
  const sandbox = ['--rm', '--read-only', '--tmpfs', `/tmp:rw,exec,size=${tmpMb}m`, '--user', '993:990', '--network', 'none'];
  const env = [`PATH=${LAMBDA_PATH}`, `LD_LIBRARY_PATH=${LAMBDA_LD_LIBRARY_PATH}`];
  return run('docker', ['run', ...sandbox, '-v', `${layerDir}:/opt:ro`, '--entrypoint', '/usr/bin/env', image, '-i', ...env, '/bin/bash', '-c', script]);
}
