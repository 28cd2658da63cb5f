import type { Docker } from './client.js';
import { UserError } from '../util/errors.js';

/**
 * Docker's reference grammar (distribution/reference): an optional registry host, a lowercase
 * path, an optional tag and an optional digest; or an image ID. Checked here because the engine
 * API answers anything else with an opaque HTTP error, or the HTTP client with "Request path
 * contains unescaped characters".
 */
const COMPONENT = '[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*';
const HOST = '(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?(?:\\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*|\\[[0-9a-fA-F:]+\\])(?::[0-9]+)?';
const DIGEST = '@(?:sha256:[0-9a-f]{64}|sha384:[0-9a-f]{96}|sha512:[0-9a-f]{128})';
const REFERENCE = new RegExp(`^(?:${HOST}/)?${COMPONENT}(?:/${COMPONENT})*(?::[\\w][\\w.-]{0,127})?(?:${DIGEST})?$`);
const IMAGE_ID = /^(?:sha256:)?[0-9a-f]{12,64}$/;

/** Refuses what Docker would not take as an image reference (or, unless `tag`, an image ID), naming the option it came from. */
export function checkImageReference(ref: string, what: string, opts: { tag?: boolean } = {}): string {
  const name = ref.replace(/@.*$/, '').replace(/:[\w][\w.-]{0,127}$/, '');
  const isId = IMAGE_ID.test(ref);
  if (opts.tag && (isId || /^[0-9a-f]{64}$/.test(name))) throw new UserError(`${what}: '${ref}' looks like an image ID; a tag is NAME[:TAG] (e.g. deps/poppler:al2023)`);
  if (name.length > 255 || !(REFERENCE.test(ref) || isId)) {
    throw new UserError(`${what}: '${ref}' is not an image reference Docker accepts (lowercase [HOST/]NAME[:TAG][@DIGEST], e.g. deps/poppler:al2023)`);
  }
  return ref;
}

/** The network modes Docker knows without a network of that name. */
const BUILT_IN_NETWORKS = new Set(['host', 'none', 'bridge', 'default']);

/**
 * Refuses, in one line, a network the engine does not have (from --network or
 * YUMDA_DOCKER_NETWORK), before a container or image build fails on it with an HTTP 404.
 */
export async function checkNetwork(docker: Docker, network: string | undefined): Promise<void> {
  if (!network || BUILT_IN_NETWORKS.has(network) || network.startsWith('container:')) return;
  const hint = 'list them with `docker network ls`; where the engine has no bridge network, use host';
  if (!/^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/.test(network)) throw new UserError(`--network: '${network}' is not a Docker network name`, { hint });
  try {
    await docker.getNetwork(network).inspect();
  } catch (e) {
    if ((e as { statusCode?: number }).statusCode === 404) {
      throw new UserError(`the Docker engine has no network '${network}' (from --network or YUMDA_DOCKER_NETWORK)`, { hint });
    }
    throw e;
  }
}
