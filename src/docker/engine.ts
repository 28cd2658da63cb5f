import Docker from 'dockerode';
import { UserError } from '../util/errors.js';

/** Where the engine is expected, as the user would write it. */
export function engineAddress(): string {
  return process.env.DOCKER_HOST || 'unix:///var/run/docker.sock';
}

const HOW_TO_FIX = 'start the Docker engine (e.g. `sudo systemctl start docker` or `sudo dockerd &`), or point DOCKER_HOST at a running one';

/**
 * Connects through dockerode (which honours DOCKER_HOST, DOCKER_TLS_VERIFY and DOCKER_CERT_PATH)
 * and pings, so an absent engine is reported once, up front, instead of as a socket error later.
 */
export async function connectEngine(): Promise<Docker> {
  const docker = new Docker();
  // an engine that accepts the connection and never answers: the request is aborted, not left
  // open (an open socket kept the process alive for minutes after the error was printed)
  const abort = new AbortController();
  try {
    const ping = (opts: { abortSignal: AbortSignal }) => (docker as unknown as { ping(o: typeof opts): Promise<unknown> }).ping(opts);
    await withTimeout(ping({ abortSignal: abort.signal }), 10_000, 'no answer within 10 s', () => abort.abort());
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? (e as Error).message;
    throw new UserError(`the Docker engine is not reachable at ${engineAddress()} (${code})`, { hint: HOW_TO_FIX });
  }
  return docker;
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
