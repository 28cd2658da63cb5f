import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { UserError } from '../util/errors.js';

/**
 * DOCKER_HOST as yumda reaches it. unix:// and tcp:// (http, or https with DOCKER_TLS_VERIFY) are
 * served by the API client as they are (endpoint.ts); ssh:// is reached the way the docker CLI
 * reaches it: the system's `ssh` runs `docker system dial-stdio` on the remote host for each
 * connection (so ~/.ssh/config, keys, the agent and known_hosts all apply), through a unix socket
 * of this process's own. Any other scheme is refused in one line rather than guessed at.
 */
export type DockerHost = { kind: 'default' } | { kind: 'passthrough' } | { kind: 'ssh'; host: string; user?: string; port?: number };

export function parseDockerHost(value: string | undefined): DockerHost {
  if (!value) return { kind: 'default' };
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(value)?.[1]?.toLowerCase();
  // host:port without a scheme is tcp, as the docker CLI takes it
  if (scheme === undefined || scheme === 'unix' || scheme === 'tcp' || scheme === 'npipe' || scheme === 'http' || scheme === 'https') return { kind: 'passthrough' };
  if (scheme !== 'ssh') throw new UserError(`DOCKER_HOST=${value}: yumda reaches a Docker engine through unix://, tcp:// or ssh://, not ${scheme}://`);
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new UserError(`DOCKER_HOST=${value} is not a URL (expected ssh://[USER@]HOST[:PORT])`);
  }
  if (!url.hostname || (url.pathname && url.pathname !== '/')) throw new UserError(`DOCKER_HOST=${value}: expected ssh://[USER@]HOST[:PORT]`);
  return {
    kind: 'ssh',
    host: url.hostname.replace(/^\[(.*)\]$/, '$1'),
    ...(url.username ? { user: decodeURIComponent(url.username) } : {}),
    ...(url.port ? { port: Number(url.port) } : {}),
  };
}

/** The `ssh` command line that opens one connection to the remote engine. */
export function sshCommand(h: Extract<DockerHost, { kind: 'ssh' }>): string[] {
  return [
    // no prompt can be answered here (a password, a new host key): fail at once instead of hanging
    '-o',
    'BatchMode=yes',
    '-o',
    'ConnectTimeout=10',
    ...(h.user ? ['-l', h.user] : []),
    ...(h.port ? ['-p', String(h.port)] : []),
    '--',
    h.host,
    'docker',
    'system',
    'dial-stdio',
  ];
}

/** What ssh said last when a connection failed, for the error that reports it. */
let lastFailure: string | undefined;

/** The ssh processes still running, and who waits for them to end. */
let running = 0;
const idle: Array<() => void> = [];

/**
 * What ssh said last when a connection failed, once every ssh of this process has ended (at most
 * `waitMs`): the client sees its connection drop before ssh's last words are read.
 */
export async function sshFailure(waitMs = 3000): Promise<string | undefined> {
  if (running) {
    let timer: NodeJS.Timeout | undefined;
    await new Promise<void>((resolve) => {
      idle.push(resolve);
      timer = setTimeout(resolve, waitMs);
      timer.unref();
    });
    clearTimeout(timer);
  }
  return lastFailure;
}

/**
 * A unix socket in a private temporary directory whose every connection is an `ssh … docker
 * system dial-stdio` to the remote engine. It lives as long as the process and does not keep it
 * alive; the directory is removed on exit.
 */
export async function sshSocket(h: Extract<DockerHost, { kind: 'ssh' }>): Promise<string> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'yumda-ssh-'));
  const socket = path.join(dir, 'docker.sock');
  process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
  const server = net.createServer((conn) => {
    const child = spawn('ssh', sshCommand(h), { stdio: ['pipe', 'pipe', 'pipe'] });
    running++;
    let ended = false;
    const end = () => {
      if (ended) return;
      ended = true;
      if (--running === 0) for (const wake of idle.splice(0)) wake();
    };
    let stderr = '';
    child.stderr.on('data', (c) => (stderr += c));
    // ssh gone: its 'close' ends the connection, once what it said is known
    conn.pipe(child.stdin).on('error', () => undefined);
    child.stdout.pipe(conn);
    conn.on('error', () => child.kill());
    conn.on('close', () => child.kill());
    child.on('error', (e) => {
      lastFailure = `cannot run ssh: ${(e as NodeJS.ErrnoException).code ?? e.message}`;
      conn.destroy();
      end();
    });
    // 'close', not 'exit': by then ssh's stderr has been read to its end
    child.on('close', (code) => {
      if (code) lastFailure = stderr.trim().split('\n').filter(Boolean).pop() ?? `ssh exited with status ${code}`;
      conn.end();
      end();
    });
  });
  server.unref();
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(socket, resolve));
  return socket;
}
