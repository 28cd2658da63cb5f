import { existsSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { UserError } from '../util/errors.js';
import { parseDockerHost, sshSocket } from './host.js';

/** Where the engine's API is served: a unix socket (or Windows named pipe), or a TCP host, in TLS or not. */
export type Endpoint = { socketPath: string } | { host: string; port: number; tls?: { ca?: Buffer; cert?: Buffer; key?: Buffer; rejectUnauthorized: boolean } };

type Env = Record<string, string | undefined>;

/** Docker Desktop's per-user socket, used when DOCKER_HOST is unset and it exists (as docker-modem did). */
function defaultSocket(env: Env, exists: (p: string) => boolean): string {
  const user = path.join(env.HOME || os.homedir(), '.docker', 'run', 'docker.sock');
  return exists(user) ? user : '/var/run/docker.sock';
}

/**
 * The endpoint DOCKER_HOST names, with TLS as the docker CLI sets it up: DOCKER_TLS_VERIFY (any
 * value) for TLS that verifies the engine, DOCKER_TLS for TLS that does not, DOCKER_CERT_PATH
 * (default ~/.docker) for ca.pem, cert.pem and key.pem. Port 2376, Docker's TLS port, means TLS
 * too, as it did with dockerode. ssh:// is not handled here (see engineEndpoint).
 */
export function endpointOf(env: Env, files: { exists: (p: string) => boolean; read: (p: string) => Buffer } = { exists: existsSync, read: readFileSync }): Endpoint {
  const value = env.DOCKER_HOST;
  if (!value) return { socketPath: defaultSocket(env, files.exists) };
  if (value.startsWith('unix://')) return { socketPath: value.slice('unix://'.length) || defaultSocket(env, files.exists) };
  if (value.startsWith('npipe://')) return { socketPath: value.slice('npipe://'.length) || '//./pipe/docker_engine' };
  let url: URL;
  try {
    // host:port without a scheme is TCP, as the docker CLI and dockerode take it
    url = new URL(value.includes('://') ? value : `tcp://${value}`);
  } catch {
    throw new UserError(`DOCKER_HOST=${value} is not a URL (expected tcp://HOST:PORT)`);
  }
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  if (!host) throw new UserError(`DOCKER_HOST=${value}: expected tcp://HOST:PORT`);
  const tls = Boolean(env.DOCKER_TLS_VERIFY || env.DOCKER_TLS) || url.protocol === 'https:' || url.port === '2376';
  const port = Number(url.port || (tls ? 2376 : 2375));
  if (!tls) return { host, port };
  const dir = env.DOCKER_CERT_PATH || path.join(env.HOME || os.homedir(), '.docker');
  const file = (name: string) => (files.exists(path.join(dir, name)) ? files.read(path.join(dir, name)) : undefined);
  const [ca, cert, key] = [file('ca.pem'), file('cert.pem'), file('key.pem')];
  return {
    host,
    port,
    tls: {
      ...(ca ? { ca } : {}),
      ...(cert && key ? { cert, key } : {}),
      // DOCKER_TLS alone is the CLI's --tls without --tlsverify
      rejectUnauthorized: Boolean(env.DOCKER_TLS_VERIFY) || !env.DOCKER_TLS,
    },
  };
}

let endpoint: Promise<Endpoint> | undefined;

/** The endpoint of this process's engine; for ssh://, a unix socket of its own that reaches the remote engine through the system's ssh. */
export function engineEndpoint(): Promise<Endpoint> {
  endpoint ??= (async () => {
    const h = parseDockerHost(process.env.DOCKER_HOST);
    return h.kind === 'ssh' ? { socketPath: await sshSocket(h) } : endpointOf(process.env);
  })();
  return endpoint;
}
