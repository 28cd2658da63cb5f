import type { ExecOptions, ExecResult } from '../runner/types.js';
import type { Container, Docker } from './client.js';
import { demuxStream } from './frames.js';
import { PassThrough, type Readable } from 'node:stream';
import { finished } from 'node:stream/promises';
import { removeStale, trackContainer, untrackContainer, yumdaLabels } from './cleanup.js';

export interface ContainerSpec {
  image: string;
  platform?: string | undefined;
  network?: string | undefined;
  env?: Record<string, string>;
  /** Command of the container's main process; defaults to sleeping so that steps can be exec'd. */
  cmd?: string[];
  /** Replaces the image's entrypoint (runtime images have their own). */
  entrypoint?: string[];
  user?: string;
  readOnlyRoot?: boolean;
  tmpfs?: Record<string, string>;
  /** Named volumes, `name:/path[:ro]`. Volumes, unlike bind mounts, work with a remote engine. */
  volumes?: string[];
}

/** Proxy settings of the user's environment, passed on so package managers behind a proxy work. */
export function proxyEnv(): Record<string, string> {
  const out: Record<string, string> = {};
  for (const k of ['HTTP_PROXY', 'HTTPS_PROXY', 'NO_PROXY', 'http_proxy', 'https_proxy', 'no_proxy']) {
    const v = process.env[k];
    if (v) out[k] = v;
  }
  return out;
}

function envList(env: Record<string, string> | undefined): string[] {
  return Object.entries(env ?? {}).map(([k, v]) => `${k}=${v}`);
}

export function lineSplitter(onLine: ((l: string) => void) | undefined, sink: string[]): PassThrough {
  const pt = new PassThrough();
  let partial = '';
  pt.on('data', (chunk: Buffer) => {
    const text = partial + chunk.toString('utf8');
    const lines = text.split('\n');
    partial = lines.pop() ?? '';
    for (const l of lines) {
      sink.push(l);
      onLine?.(l);
    }
  });
  pt.on('end', () => {
    if (partial) {
      sink.push(partial);
      onLine?.(partial);
    }
  });
  return pt;
}

/**
 * Ends line splitters and waits until each has said its last line: one without a newline is
 * pushed on 'end', which comes after end() returns (read at once, `printf 42` gave no output).
 */
export async function endLines(...splitters: PassThrough[]): Promise<void> {
  await Promise.all(
    splitters.map((s) => {
      s.end();
      return finished(s);
    }),
  );
}

/** A container yumda owns for the duration of one job; removed by `remove()` or on Ctrl-C. */
export class WorkContainer {
  private constructor(readonly container: Container) {}

  static async start(docker: Docker, spec: ContainerSpec): Promise<WorkContainer> {
    const binds = spec.volumes ?? [];
    await removeStale(docker);
    const container = await docker.createContainer(
      {
        Image: spec.image,
        Cmd: spec.cmd ?? ['sleep', 'infinity'],
        Env: envList(spec.env),
        ...(spec.entrypoint ? { Entrypoint: spec.entrypoint } : {}),
        ...(spec.user ? { User: spec.user } : {}),
        Labels: yumdaLabels(),
        HostConfig: {
          AutoRemove: false,
          ...(spec.network ? { NetworkMode: spec.network } : {}),
          ...(spec.readOnlyRoot ? { ReadonlyRootfs: true } : {}),
          ...(spec.tmpfs ? { Tmpfs: spec.tmpfs } : {}),
          ...(binds.length ? { Binds: binds } : {}),
        },
      },
      { platform: spec.platform },
    );
    trackContainer(container);
    const wc = new WorkContainer(container);
    try {
      if (!spec.cmd) await container.start();
    } catch (e) {
      await wc.remove();
      throw e;
    }
    return wc;
  }

  async exec(cmd: string[], opts: ExecOptions = {}): Promise<ExecResult> {
    const exec = await this.container.exec({
      Cmd: cmd,
      AttachStdout: true,
      AttachStderr: true,
      Env: envList(opts.env),
      ...(opts.user ? { User: opts.user } : {}),
    });
    const stream = await exec.start();
    const out: string[] = [];
    const err: string[] = [];
    const stdout = lineSplitter(opts.onStdoutLine, out);
    const stderr = lineSplitter(opts.onStderrLine, err);
    demuxStream(stream, stdout, stderr);
    await new Promise<void>((resolve, reject) => {
      stream.on('end', resolve);
      stream.on('close', resolve);
      stream.on('error', reject);
    });
    await endLines(stdout, stderr);
    const info = await exec.inspect();
    return { exitCode: info.ExitCode ?? -1, stdout: out.join('\n'), stderr: err.join('\n') };
  }

  /** Runs the container's own command to completion (for containers created with `cmd`). */
  async run(opts: ExecOptions = {}): Promise<ExecResult> {
    const stream = await this.container.attach();
    const out: string[] = [];
    const err: string[] = [];
    const stdout = lineSplitter(opts.onStdoutLine, out);
    const stderr = lineSplitter(opts.onStderrLine, err);
    demuxStream(stream, stdout, stderr);
    // a connection cut mid-stream ends the output; wait() then reports what became of the engine
    const ended = new Promise<void>((resolve) => {
      stream.on('end', resolve);
      stream.on('close', resolve);
      stream.on('error', () => resolve());
    });
    await this.container.start();
    const status = await this.container.wait();
    await ended;
    await endLines(stdout, stderr);
    return { exitCode: status.StatusCode, stdout: out.join('\n'), stderr: err.join('\n') };
  }

  /** The tree under `path` as a tar stream (the Docker archive API). */
  async getArchive(path: string): Promise<Readable> {
    return this.container.getArchive(path);
  }

  /** Unpacks a tar archive into `path` inside the container. */
  async putArchive(path: string, tarball: Buffer | Readable): Promise<void> {
    await this.container.putArchive(path, tarball);
  }

  async remove(): Promise<void> {
    untrackContainer(this.container);
    await this.container.remove({ force: true, v: true }).catch(() => undefined);
  }
}

/** Starts a container, hands it to `fn`, and removes it however `fn` ends. */
export async function withContainer<T>(docker: Docker, spec: ContainerSpec, fn: (c: WorkContainer) => Promise<T>): Promise<T> {
  const c = await WorkContainer.start(docker, spec);
  try {
    return await fn(c);
  } finally {
    await c.remove();
  }
}
