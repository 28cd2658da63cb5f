import path from 'node:path';
import { ensureBaseImages } from './base-images.js';
import { dockerfileBase } from '../../src/docker/images.js';
import { run, repoRoot } from './cli.js';

/** Lambda's environment, exactly (DESIGN.md); nothing else is set in the function's process. */
export const LAMBDA_PATH = '/usr/local/bin:/usr/bin/:/bin:/opt/bin';
export const LAMBDA_LD_LIBRARY_PATH = '/var/lang/lib:/lib64:/usr/lib64:/var/runtime:/var/runtime/lib:/var/task:/var/task/lib:/opt/lib';

/**
 * Builds the runtime image the tests run layers in (plain runtime + Lambda's user) if missing.
 * For arm64 it is built from the arm64 base stand-in of its Dockerfile's base (debian:13-slim:
 * debian:13-slim-arm64, from test/images/ensure-base-images.sh --release 13 --arch arm64) and runs
 * under emulation.
 */
export async function ensureRuntimeImage(name: string, context: string, arch: 'x86_64' | 'arm64' = 'x86_64', opts: { base?: string } = {}): Promise<string> {
  const ref = arch === 'arm64' ? `${name}:test-arm64` : `${name}:test`;
  if (arch === 'arm64') ensureBaseImages('arm64');
  // `base` builds the context on another image: the Debian 11 stand-in from runtime-debian12's Dockerfile
  const base = opts.base ?? dockerfileBase(path.join(repoRoot, context, 'Dockerfile'));
  const foreign = arch === 'arm64' ? ['--platform', 'linux/arm64', '--build-arg', `BASE=${base}-arm64`] : opts.base ? ['--build-arg', `BASE=${opts.base}`] : [];
  const r = await run('docker', ['build', '-q', '--network', 'host', ...foreign, '-t', ref, path.join(repoRoot, context)]);
  if (r.code !== 0) {
    const release = /^debian:(\d+)-slim$/.exec(base ?? '')?.[1] ?? '12';
    const how =
      arch === 'arm64' ? ` (it needs ${base}-arm64 and qemu-aarch64 registered: run .ci/binfmt-arm64 and test/images/ensure-base-images.sh --release ${release} --arch arm64)` : '';
    throw new Error(`building ${ref} failed${how}: ${r.stderr}`);
  }
  return ref;
}

export interface LambdaRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** `docker run` as Lambda runs a function: read-only root, /tmp only, uid 993, no network, `env -i` with `env`. */
export function lambdaDockerArgs(image: string, mounts: string[], env: string[], script: string, platform?: string, tmpMb?: number, shell = '/bin/sh'): string[] {
  // the platform named, the docker client does not warn (on stderr) that an arm64 image is not the host's
  const tmp = `/tmp:rw,exec${tmpMb ? `,size=${tmpMb}m` : ''}`;
  const sandbox = ['--rm', '--read-only', '--tmpfs', tmp, '--user', '993:990', '--network', 'none', ...(platform ? ['--platform', platform] : [])];
  return ['run', ...sandbox, ...mounts, '--entrypoint', '/usr/bin/env', image, '-i', ...env, shell, '-c', script];
}

/**
 * Runs `script` as Lambda would run a function's subprocess: the layer read-only at /opt, a
 * read-only root, only /tmp writable, uid 993, no network, and an environment of exactly PATH
 * and LD_LIBRARY_PATH (`env -i`, so not even Docker's HOSTNAME/HOME leak in). `work` is mounted
 * at /work for inputs and outputs. `platform` (linux/arm64) runs an image of another architecture
 * under emulation. `tmpMb` sizes /tmp as a function's ephemeral storage does; `env` adds variables
 * (the function's configuration); `shell` runs the script (bash for bash's own syntax).
 */
export async function runLambdaLike(
  image: string,
  layerDir: string,
  script: string,
  opts: { work?: string; ldLibraryPath?: string | null; platform?: string; tmpMb?: number; env?: Record<string, string>; shell?: string } = {},
): Promise<LambdaRun> {
  const env = [`PATH=${LAMBDA_PATH}`];
  if (opts.ldLibraryPath !== null) env.push(`LD_LIBRARY_PATH=${opts.ldLibraryPath ?? LAMBDA_LD_LIBRARY_PATH}`);
  for (const [k, v] of Object.entries(opts.env ?? {})) env.push(`${k}=${v}`);
  const mounts = ['-v', `${layerDir}:/opt:ro`, ...(opts.work ? ['-v', `${opts.work}:/work`] : [])];
  return run('docker', lambdaDockerArgs(image, mounts, env, script, opts.platform, opts.tmpMb, opts.shell));
}

/**
 * Runs `script` Lambda-like (as runLambdaLike) in an image that already holds the layer at /opt,
 * as an image built with `COPY --from=<yumda stage> /opt /opt` does: no mounts at all.
 */
export async function runLambdaLikeImage(image: string, script: string): Promise<LambdaRun> {
  return run('docker', lambdaDockerArgs(image, [], [`PATH=${LAMBDA_PATH}`, `LD_LIBRARY_PATH=${LAMBDA_LD_LIBRARY_PATH}`], script));
}
