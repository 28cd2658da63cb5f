import { Docker } from './client.js';
import { engineEndpoint } from './endpoint.js';
import { UserError } from '../util/errors.js';
import { sshFailure } from './host.js';

/** Where the engine is expected, as the user would write it. */
export function engineAddress(): string {
  return process.env.DOCKER_HOST || 'unix:///var/run/docker.sock';
}

const HOW_TO_FIX = 'start the Docker engine (e.g. `sudo systemctl start docker` or `sudo dockerd &`), or point DOCKER_HOST at a running one';

/**
 * Connects to the engine DOCKER_HOST names (with DOCKER_TLS_VERIFY and DOCKER_CERT_PATH) and
 * pings, so an absent engine is reported once, up front, instead of as a socket error later.
 */
export async function connectEngine(): Promise<Docker> {
  const docker = new Docker(await engineEndpoint());
  // an engine that accepts the connection and never answers: the request is aborted, not left
  // open (an open socket kept the process alive for minutes after the error was printed)
  const abort = new AbortController();
  try {
    await withTimeout(docker.ping({ signal: abort.signal }), 10_000, 'no answer within 10 s', () => abort.abort());
  } catch (e) {
    const code = (await sshFailure()) ?? (e as NodeJS.ErrnoException).code ?? (e as Error).message;
    throw new UserError(`the Docker engine is not reachable at ${engineAddress()} (${code})`, { hint: HOW_TO_FIX });
  }
  connected = engineAddress();
  return docker;
}

/** The engine this process has talked to, once it answered. */
let connected: string | undefined;

/** How a connection to a socket that answered before fails once its other end is gone. */
const LOST = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ENOENT']);

/**
 * A connection error after the engine answered, as the one line it means: the engine went away
 * during the command (stopped, restarted, its socket removed). Any other error is returned as it
 * came. The CLI's last catch passes every error through here.
 */
export function engineLost(e: unknown): unknown {
  if (connected === undefined || !(e instanceof Error) || e instanceof UserError) return e;
  const err = e as NodeJS.ErrnoException;
  if (!err.code || !LOST.has(err.code) || (err.code === 'ENOENT' && err.syscall !== 'connect')) return e;
  return new UserError(`lost the connection to the Docker engine at ${connected} (${err.code}): it stopped or went away during the command`, {
    hint: 'start it again and run the command again; what was already downloaded and unpacked is cached',
    cause: e,
  });
}

function withTimeout<T>(p: Promise<T>, ms: number, what: string, onTimeout: () => void): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      reject(Object.assign(new Error(what), { code: 'ETIMEDOUT' }));
      onTimeout();
    }, ms);
  });
  p.catch(() => undefined); // the abort rejects it after the timeout already has
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}
