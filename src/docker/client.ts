import type { Readable } from 'node:stream';
import type { Endpoint } from './endpoint.js';
import { EngineHttp, imageSegment, segment, type TarBody } from './http.js';

/*
 * The Docker Engine API calls yumda makes, typed with the fields it reads. The method names are
 * those of dockerode, which this replaces: its gRPC (protobufjs) and ssh2 (cpu-features)
 * dependencies carry install scripts npm warns about on every global install of yumda.
 */

export type Labels = Record<string, string>;
/** The API's `filters` parameter: each key to the values it must match. */
export type Filters = Record<string, string[]>;

export interface EngineInfo {
  Architecture?: string;
}

export interface ImageInspect {
  Id: string;
  RepoDigests?: string[] | null;
  Architecture?: string;
}

export interface ContainerSummary {
  Id: string;
  Labels?: Labels | null;
}

export interface VolumeSummary {
  Name: string;
  Labels?: Labels | null;
}

export interface DfVolume {
  Name: string;
  UsageData?: { Size?: number; RefCount?: number } | null;
}

export interface SystemDf {
  Volumes?: DfVolume[] | null;
}

/** The body of POST /containers/create (the fields yumda sets). */
export interface ContainerCreate {
  Image: string;
  Cmd?: string[];
  Entrypoint?: string[];
  Env?: string[];
  User?: string;
  Labels?: Labels;
  HostConfig?: {
    AutoRemove?: boolean;
    NetworkMode?: string;
    ReadonlyRootfs?: boolean;
    Tmpfs?: Record<string, string>;
    Binds?: string[];
  };
}

export interface ExecCreate {
  Cmd: string[];
  AttachStdout?: boolean;
  AttachStderr?: boolean;
  Env?: string[];
  User?: string;
}

export interface BuildQuery {
  t: string;
  rm?: boolean;
  forcerm?: boolean;
  networkmode?: string;
  platform?: string;
  buildargs?: Record<string, string>;
}

export class Exec {
  constructor(
    private readonly http: EngineHttp,
    readonly id: string,
  ) {}

  /** The process's output as the engine's multiplexed stream (see frames.ts). */
  start(): Promise<Readable> {
    return this.http.hijack({ method: 'POST', path: `/exec/${segment(this.id)}/start`, json: { Detach: false, Tty: false } });
  }

  inspect(): Promise<{ ExitCode: number | null; Running?: boolean }> {
    return this.http.json({ method: 'GET', path: `/exec/${segment(this.id)}/json` });
  }
}

export class Container {
  constructor(
    private readonly http: EngineHttp,
    readonly id: string,
  ) {}

  private get path(): string {
    return `/containers/${segment(this.id)}`;
  }

  start(): Promise<void> {
    return this.http.call({ method: 'POST', path: `${this.path}/start` });
  }

  /** Its main process's output, multiplexed; attach before start to see all of it. */
  attach(): Promise<Readable> {
    return this.http.hijack({ method: 'POST', path: `${this.path}/attach`, query: { stream: true, stdout: true, stderr: true } });
  }

  wait(): Promise<{ StatusCode: number }> {
    return this.http.json({ method: 'POST', path: `${this.path}/wait` });
  }

  remove(opts: { force?: boolean; v?: boolean } = {}): Promise<void> {
    return this.http.call({ method: 'DELETE', path: this.path, query: opts });
  }

  async exec(body: ExecCreate): Promise<Exec> {
    const { Id } = await this.http.json<{ Id: string }>({ method: 'POST', path: `${this.path}/exec`, json: body });
    return new Exec(this.http, Id);
  }

  /** The tree at `path` as a tar stream. */
  getArchive(path: string): Promise<Readable> {
    return this.http.response({ method: 'GET', path: `${this.path}/archive`, query: { path } });
  }

  /** Unpacks the tar `tarball` into `path`. */
  putArchive(path: string, tarball: TarBody): Promise<void> {
    return this.http.call({ method: 'PUT', path: `${this.path}/archive`, query: { path }, tar: tarball });
  }
}

/** A Docker engine, reached at `endpoint`. */
export class Docker {
  private readonly http: EngineHttp;

  constructor(endpoint: Endpoint) {
    this.http = new EngineHttp(endpoint);
  }

  async ping(opts: { signal?: AbortSignal } = {}): Promise<void> {
    await this.http.call({ method: 'GET', path: '/_ping', ...(opts.signal ? { signal: opts.signal } : {}) });
  }

  info(): Promise<EngineInfo> {
    return this.http.json({ method: 'GET', path: '/info' });
  }

  df(): Promise<SystemDf> {
    return this.http.json({ method: 'GET', path: '/system/df' });
  }

  /** Builds from a tar context; the answer is the JSON progress stream (see progress.ts). */
  buildImage(context: TarBody, query: BuildQuery): Promise<Readable> {
    return this.http.response({ method: 'POST', path: '/build', query: { ...query }, tar: context });
  }

  /** Loads a `docker save` tarball; the answer is the JSON progress stream. */
  loadImage(tarball: TarBody, opts: { quiet?: boolean } = {}): Promise<Readable> {
    return this.http.response({ method: 'POST', path: '/images/load', query: opts, tar: tarball });
  }

  getImage(ref: string): { inspect(): Promise<ImageInspect> } {
    return { inspect: () => this.http.json({ method: 'GET', path: `/images/${imageSegment(ref)}/json` }) };
  }

  async createContainer(body: ContainerCreate, opts: { platform?: string | undefined } = {}): Promise<Container> {
    const { Id } = await this.http.json<{ Id: string }>({ method: 'POST', path: '/containers/create', query: { platform: opts.platform }, json: body });
    return new Container(this.http, Id);
  }

  getContainer(id: string): Container {
    return new Container(this.http, id);
  }

  listContainers(opts: { all?: boolean; filters?: Filters } = {}): Promise<ContainerSummary[]> {
    return this.http.json({ method: 'GET', path: '/containers/json', query: opts });
  }

  async createVolume(body: { Name: string; Labels?: Labels }): Promise<void> {
    await this.http.call({ method: 'POST', path: '/volumes/create', json: body });
  }

  listVolumes(opts: { filters?: Filters } = {}): Promise<{ Volumes?: VolumeSummary[] | null }> {
    return this.http.json({ method: 'GET', path: '/volumes', query: opts });
  }

  getVolume(name: string): { remove(opts?: { force?: boolean }): Promise<void> } {
    return { remove: (opts = {}) => this.http.call({ method: 'DELETE', path: `/volumes/${segment(name)}`, query: opts }) };
  }

  getNetwork(name: string): { inspect(): Promise<{ Id: string; Name: string }> } {
    return { inspect: () => this.http.json({ method: 'GET', path: `/networks/${segment(name)}` }) };
  }
}
