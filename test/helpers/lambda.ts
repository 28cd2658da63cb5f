import path from 'node:path';
import { run, repoRoot } from './cli.js';

/** Lambda's environment, exactly (DESIGN.md); nothing else is set in the function's process. */
export const LAMBDA_PATH = '/usr/local/bin:/usr/bin/:/bin:/opt/bin';
export const LAMBDA_LD_LIBRARY_PATH = '/var/lang/lib:/lib64:/usr/lib64:/var/runtime:/var/runtime/lib:/var/task:/var/task/lib:/opt/lib';

/** Builds the runtime image the tests run layers in (plain runtime + Lambda's user) if missing. */
export async function ensureRuntimeImage(name: string, context: string): Promise<string> {
  const ref = `${name}:test`;
  const r = await run('docker', ['build', '-q', '--network', 'host', '-t', ref, path.join(repoRoot, context)]);
  if (r.code !== 0) throw new Error(`building ${ref} failed: ${r.stderr}`);
  return ref;
}

export interface LambdaRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** `docker run` as Lambda runs a function: read-only root, /tmp only, uid 993, no network, `env -i` with `env`. */
function lambdaDockerArgs(image: string, mounts: string[], env: string[], script: string): string[] {
  const sandbox = ['--rm', '--read-only', '--tmpfs', '/tmp:rw,exec', '--user', '993:990', '--network', 'none'];
  return ['run', ...sandbox, ...mounts, '--entrypoint', '/usr/bin/env', image, '-i', ...env, '/bin/sh', '-c', script];
}

/**
 * Runs `script` as Lambda would run a function's subprocess: the layer read-only at /opt, a
 * read-only root, only /tmp writable, uid 993, no network, and an environment of exactly PATH
 * and LD_LIBRARY_PATH (`env -i`, so not even Docker's HOSTNAME/HOME leak in). `work` is mounted
 * at /work for inputs and outputs.
 */
export async function runLambdaLike(image: string, layerDir: string, script: string, opts: { work?: string; ldLibraryPath?: string | null } = {}): Promise<LambdaRun> {
  const env = [`PATH=${LAMBDA_PATH}`];
  if (opts.ldLibraryPath !== null) env.push(`LD_LIBRARY_PATH=${opts.ldLibraryPath ?? LAMBDA_LD_LIBRARY_PATH}`);
  const mounts = ['-v', `${layerDir}:/opt:ro`, ...(opts.work ? ['-v', `${opts.work}:/work`] : [])];
  return run('docker', lambdaDockerArgs(image, mounts, env, script));
}

/**
 * Runs `script` Lambda-like (as runLambdaLike) in an image that already holds the layer at /opt,
 * as an image built with `COPY --from=<yumda stage> /opt /opt` does: no mounts at all.
 */
export async function runLambdaLikeImage(image: string, script: string): Promise<LambdaRun> {
  return run('docker', lambdaDockerArgs(image, [], [`PATH=${LAMBDA_PATH}`, `LD_LIBRARY_PATH=${LAMBDA_LD_LIBRARY_PATH}`], script));
}
