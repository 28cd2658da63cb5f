import type { Docker } from './client.js';
import path from 'node:path';
import type { Arch } from '../registry/arch.js';
import { UserError } from '../util/errors.js';
import { projectRoot } from '../util/paths.js';
import { buildImage, contextTag, dockerfileBase, imageExists } from './images.js';
import { WorkContainer } from './container.js';

/**
 * Images of an architecture other than the engine's, run under emulation (qemu-user registered
 * with binfmt_misc on the engine's host: Docker Desktop has it built in).
 *
 * An engine with the classic image store holds one image per tag, so the arm64 variant of
 * `debian:12-slim` cannot sit next to the amd64 one. An image named `<base>-<arch>` (e.g.
 * `debian:12-slim-arm64`) is taken as that variant when present, which is how a machine without a
 * registry provides one; otherwise the engine pulls `<base>` for the platform asked.
 */
export function variantName(base: string, arch: Arch): string {
  return `${base}-${arch.deb}`;
}

/** The engine's name of an image's architecture (`amd64`, `arm64`), undefined when absent. */
async function imageArch(docker: Docker, ref: string): Promise<string | undefined> {
  try {
    return String((await docker.getImage(ref).inspect()).Architecture);
  } catch (e) {
    if ((e as { statusCode?: number }).statusCode === 404) return undefined;
    throw e;
  }
}

/**
 * The image of `arch` the engine already has for `base`: `base` itself when it is that
 * architecture, else its local variant (variantName), else undefined. For images yumda cannot
 * build or pull for another platform itself (a --build-image, a runtime's image).
 */
export async function existingVariant(docker: Docker, base: string, arch: Arch): Promise<string | undefined> {
  if ((await imageArch(docker, base)) === arch.deb) return base;
  const variant = variantName(base, arch);
  if ((await imageArch(docker, variant)) === arch.deb) return variant;
  return undefined;
}

/** The image to build FROM for `arch`: `base` when it is that architecture, a local variant, or `base` for the engine to pull. */
export async function platformBase(docker: Docker, base: string, arch: Arch): Promise<string> {
  return (await existingVariant(docker, base, arch)) ?? base;
}

/** The tag of an image built from a Dockerfile context for a foreign architecture: the native tag plus the architecture. */
export function foreignTag(name: string, context: string, arch: Arch): string {
  return `${name}:${contextTag(context)}-${arch.deb}`;
}

/**
 * Builds (when missing) the image of a Dockerfile context for a foreign architecture. The
 * Dockerfile's first FROM names its base through `ARG BASE`, so the variant chosen by
 * platformBase can stand in for it.
 */
export async function ensureForeignImage(
  docker: Docker,
  opts: {
    name: string;
    context: string;
    arch: Arch;
    network?: string | undefined;
    buildArgs?: Record<string, string>;
    onLine?: (l: string) => void;
    onBuild?: (ref: string) => void;
  },
): Promise<string> {
  const dir = path.isAbsolute(opts.context) ? opts.context : path.join(projectRoot, opts.context);
  const ref = foreignTag(opts.name, dir, opts.arch);
  if (await imageExists(docker, ref)) return ref;
  const from = dockerfileBase(path.join(dir, 'Dockerfile'));
  if (!from) throw new UserError(`${dir}/Dockerfile has no FROM line`);
  const base = await platformBase(docker, from, opts.arch);
  opts.onBuild?.(ref);
  await buildImage(docker, ref, dir, { network: opts.network, platform: opts.arch.docker, buildArgs: { ...opts.buildArgs, BASE: base }, onLine: opts.onLine });
  return ref;
}

/** How a user turns emulation on, for messages that say it is off. */
export const ENABLE_EMULATION =
  'turn on emulation: Docker Desktop has it built in; on Linux run `docker run --privileged --rm tonistiigi/binfmt --install arm64`, or `apt-get install qemu-user-static binfmt-support` on a Debian or Ubuntu host';

/**
 * A reason a foreign program could not run, with how to turn emulation on when that is the cause:
 * always after the `true` probe failed, otherwise when the engine said `exec format error` (a
 * build's RUN step without emulation), not for an image that could not be pulled.
 */
export function withEmulationHint(why: string, probed = false): string {
  return probed || /exec format error/i.test(why) ? `${why}; ${ENABLE_EMULATION}` : why;
}

/** Whether the engine can run a program of `arch`: answered by running `true` in `image` (an image of that architecture). */
export async function engineRuns(docker: Docker, image: string): Promise<{ ok: true } | { ok: false; why: string }> {
  try {
    const c = await WorkContainer.start(docker, { image, entrypoint: ['true'], cmd: [], network: 'none' });
    try {
      const r = await c.run();
      if (r.exitCode === 0) return { ok: true };
      return { ok: false, why: (r.stderr || r.stdout).trim().split('\n').pop() || `exit ${r.exitCode}` };
    } finally {
      await c.remove();
    }
  } catch (e) {
    return { ok: false, why: (e as Error).message.trim() };
  }
}
