import type { Docker } from '../docker/client.js';
import path from 'node:path';
import { WorkContainer, withContainer } from '../docker/container.js';
import { buildImage, contextTag, imageExists } from '../docker/images.js';
import { engineRuns, ensureForeignImage, existingVariant, withEmulationHint } from '../docker/platform.js';
import { ARCHES, type Arch } from '../registry/arch.js';
import { withVolume } from '../docker/volume.js';
import { layerTarStream } from '../emit/image.js';
import type { Runtime } from '../registry/types.js';
import type { FileTree } from '../tree/types.js';
import { isInterrupted } from '../util/cleanup.js';
import { UserError } from '../util/errors.js';
import { projectRoot } from '../util/paths.js';
import { LAMBDA_USER } from '../format/lambda.js';

export interface SandboxRun {
  exitCode: number;
  /** stdout, then stderr. */
  output: string;
  timedOut: boolean;
}

export interface LambdaSandbox {
  /** The image the commands run in. */
  image: string;
  /** Runs `command` with the runtime's shell, as Lambda runs a function's subprocess. */
  run(command: string, timeoutMs: number): Promise<SandboxRun>;
}

/** The image a runtime's layers are verified in: its verifyImage (built when missing), or its image. */
export async function ensureVerifyImage(
  docker: Docker,
  runtime: Runtime,
  opts: { network?: string | undefined; onLine?: (l: string) => void; onBuild?: (ref: string) => void },
): Promise<string> {
  if (!runtime.verifyImage) {
    if (!(await imageExists(docker, runtime.image)))
      throw new UserError(`the ${runtime.id} runtime image ${runtime.image} is not in the Docker engine`, { hint: 'pull or build it first' });
    return runtime.image;
  }
  const context = path.join(projectRoot, runtime.verifyImage.context);
  const ref = `${runtime.verifyImage.name}:${contextTag(context)}`;
  if (!(await imageExists(docker, ref))) {
    opts.onBuild?.(ref);
    await buildImage(docker, ref, context, { network: opts.network, onLine: opts.onLine });
  }
  return ref;
}

/** The architecture the engine runs natively, undefined when it reports one yumda does not know. */
export async function engineArch(docker: Docker): Promise<Arch | undefined> {
  const reported = String(((await docker.info()) as { Architecture?: string }).Architecture ?? '');
  return ARCHES.find((a) => [a.lambda, a.rpm, a.deb].includes(reported));
}

/**
 * The image a layer of `arch` is verified in. For the engine's own architecture, as
 * ensureVerifyImage; for another, the runtime's image of that architecture, run under the engine's
 * emulation, or why it cannot be (no such image, no emulation), with how to turn emulation on.
 */
export async function verifyImageFor(
  docker: Docker,
  runtime: Runtime,
  arch: Arch,
  opts: { network?: string | undefined; onLine?: (l: string) => void; onBuild?: (ref: string) => void },
): Promise<{ image: string } | { cannot: string }> {
  const native = await engineArch(docker);
  if (!native || native.lambda === arch.lambda) return { image: await ensureVerifyImage(docker, runtime, opts) };
  const cannot = (why: string) => ({ cannot: `the layer is ${arch.lambda}, the Docker engine runs ${native.lambda} and cannot run ${arch.lambda} programs here: ${why}` });
  let image: string;
  try {
    if (runtime.verifyImage) {
      image = await ensureForeignImage(docker, { name: runtime.verifyImage.name, context: runtime.verifyImage.context, arch, ...opts });
    } else {
      const variant = await existingVariant(docker, runtime.image, arch);
      if (!variant) return cannot(`no ${arch.lambda} image of ${runtime.image} is in the engine (docker pull --platform ${arch.docker} ${runtime.image})`);
      image = variant;
    }
  } catch (e) {
    if (!(e instanceof UserError)) throw e;
    return cannot(withEmulationHint(e.message.split('\n')[0]!));
  }
  const probe = await engineRuns(docker, image);
  if (!probe.ok) return cannot(withEmulationHint(probe.why, true));
  return { image };
}

/**
 * Runs commands against a layer the way Lambda runs a function: the layer read-only at /opt, a
 * read-only root, only /tmp writable (and executable), Lambda's unprivileged uid 993, no network,
 * and an environment of exactly Lambda's PATH and LD_LIBRARY_PATH (`env -i`: not even Docker's
 * HOSTNAME or HOME). The layer reaches the engine as a tar stream into a named volume through a
 * helper container's archive API, never as a bind mount, so a remote engine works the same.
 * Each command gets a fresh container; volume and containers are removed however this ends.
 */
export async function withLambdaSandbox<T>(
  docker: Docker,
  args: { image: string; runtime: Runtime; layer: FileTree; tmpMb?: number },
  fn: (sb: LambdaSandbox) => Promise<T>,
): Promise<T> {
  return withVolume(docker, 'verify', async (volume) => {
    // the helper only carries the archive into the volume; it never runs
    await withContainer(docker, { image: args.image, cmd: ['true'], volumes: [`${volume}:/opt`], network: 'none' }, async (helper) => {
      await helper.putArchive('/', layerTarStream(args.layer));
    });
    const env = [`PATH=${args.runtime.lambda.PATH}`, `LD_LIBRARY_PATH=${args.runtime.lambda.LD_LIBRARY_PATH}`];
    const sandbox: LambdaSandbox = {
      image: args.image,
      async run(command, timeoutMs) {
        if (isInterrupted()) throw new UserError('interrupted');
        const c = await WorkContainer.start(docker, {
          image: args.image,
          entrypoint: ['/usr/bin/env'],
          cmd: ['-i', ...env, args.runtime.shell, '-c', command],
          user: LAMBDA_USER,
          readOnlyRoot: true,
          // sized as a function's ephemeral storage, when the layer needs a known amount (packed)
          tmpfs: { '/tmp': args.tmpMb ? `rw,exec,size=${args.tmpMb}m` : 'rw,exec' },
          network: 'none',
          volumes: [`${volume}:/opt:ro`],
        });
        let timer: NodeJS.Timeout | undefined;
        try {
          const timeout = new Promise<'timeout'>((resolve) => {
            timer = setTimeout(() => resolve('timeout'), timeoutMs);
          });
          const running = c.run();
          // after a timeout the container is removed under it, and its wait fails: that is expected
          running.catch(() => undefined);
          const r = await Promise.race([running, timeout]);
          if (r === 'timeout') return { exitCode: -1, output: '', timedOut: true };
          return { exitCode: r.exitCode, output: [r.stdout, r.stderr].filter(Boolean).join('\n'), timedOut: false };
        } finally {
          clearTimeout(timer);
          await c.remove();
        }
      },
    };
    return fn(sandbox);
  });
}
