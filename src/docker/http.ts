import http, { type IncomingMessage } from 'node:http';
import https from 'node:https';
import type { Socket } from 'node:net';
import type { Readable } from 'node:stream';
import type { Endpoint } from './endpoint.js';

/** An HTTP status outside 2xx from the engine (404, 409, the 304 of a container already started), with the message it gave. */
export class EngineError extends Error {
  constructor(
    message: string,
    readonly statusCode: number,
  ) {
    super(message);
    this.name = 'EngineError';
  }
}

/** A tar body: a Buffer, or a stream (node's, or tar-stream's streamx pack) piped as it is read. */
export type TarBody = Buffer | { pipe(dest: NodeJS.WritableStream): unknown; on(event: 'error', listener: (e: Error) => void): unknown };

export type Query = Record<string, string | number | boolean | object | undefined>;

export interface EngineRequest {
  method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  /** The path, its variable parts already encoded (see `segment`). */
  path: string;
  /** Values that are objects (filters, buildargs) go as JSON, as the API wants them; undefined ones are left out. */
  query?: Query;
  /** A JSON body. */
  json?: unknown;
  /** A tar body: streamed to the engine as it is read, never held in memory whole. */
  tar?: TarBody;
  signal?: AbortSignal;
}

/** A path segment: an ID or a name, escaped. */
export function segment(s: string): string {
  return encodeURIComponent(s);
}

/** An image reference in a path: `/`, `:` and `@` stay as they are (the API's image routes take them raw). */
export function imageSegment(ref: string): string {
  return encodeURIComponent(ref).replace(/%2F/gi, '/').replace(/%3A/gi, ':').replace(/%40/g, '@');
}

export function queryString(q: Query | undefined): string {
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(q ?? {})) {
    if (v === undefined) continue;
    params.set(k, typeof v === 'object' ? JSON.stringify(v) : String(v));
  }
  const s = params.toString();
  return s ? `?${s}` : '';
}

function ok(res: IncomingMessage): boolean {
  const s = res.statusCode ?? 0;
  return s >= 200 && s < 300;
}

async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

/** The engine's error answer as an EngineError: its JSON `message`, else its text, else the status. */
async function errorOf(res: IncomingMessage): Promise<EngineError> {
  const status = res.statusCode ?? 0;
  const text = (await readAll(res).catch(() => Buffer.alloc(0))).toString('utf8').trim();
  let message = text;
  try {
    const m = (JSON.parse(text) as { message?: unknown }).message;
    if (typeof m === 'string') message = m;
  } catch {
    // not JSON: the text as it is
  }
  return new EngineError(message || `HTTP ${status} ${res.statusMessage ?? ''}`.trim(), status);
}

/**
 * The Docker Engine API over HTTP/1.1, on unversioned paths (the engine serves its own version,
 * as dockerode's paths did: yumda needs nothing a pinned version would give). Connection errors (ENOENT, ECONNREFUSED, EACCES, an
 * abort) reach the caller as Node raised them, with their code and syscall.
 */
export class EngineHttp {
  constructor(private readonly endpoint: Endpoint) {}

  private options(req: EngineRequest, headers: Record<string, string>): http.RequestOptions {
    const e = this.endpoint;
    const where = 'socketPath' in e ? { socketPath: e.socketPath } : { host: e.host, port: e.port, ...(e.tls ?? {}) };
    return {
      ...where,
      method: req.method,
      path: `${req.path}${queryString(req.query)}`,
      headers,
      ...(req.signal ? { signal: req.signal } : {}),
    };
  }

  private client(): typeof http {
    return 'tls' in this.endpoint && this.endpoint.tls ? (https as unknown as typeof http) : http;
  }

  /** Sends the request and its body; `onRequest` sees the request before it is sent (to listen for 'upgrade'). */
  private send(req: EngineRequest, headers: Record<string, string>, opts: { agent?: false; onRequest?: (r: http.ClientRequest) => void } = {}): http.ClientRequest {
    const h = { ...headers };
    let body: TarBody | undefined;
    if (req.json !== undefined) {
      body = Buffer.from(JSON.stringify(req.json));
      h['Content-Type'] = 'application/json';
    } else if (req.tar !== undefined) {
      body = req.tar;
      h['Content-Type'] = 'application/x-tar';
    }
    if (Buffer.isBuffer(body)) h['Content-Length'] = String(body.length);
    const r = this.client().request({ ...this.options(req, h), ...(opts.agent === false ? { agent: false } : {}) });
    opts.onRequest?.(r);
    if (body === undefined || Buffer.isBuffer(body)) r.end(body);
    else {
      body.on('error', (e) => r.destroy(e));
      body.pipe(r);
    }
    return r;
  }

  /** The response, once its status is known; a status outside 2xx rejects with an EngineError. */
  response(req: EngineRequest): Promise<IncomingMessage> {
    return new Promise((resolve, reject) => {
      const r = this.send(req, {});
      r.on('error', reject);
      r.on('response', (res) => {
        if (!ok(res)) errorOf(res).then(reject, reject);
        else resolve(res);
      });
    });
  }

  /** The response body parsed as JSON (undefined when empty, as 204 answers are). */
  async json<T>(req: EngineRequest): Promise<T> {
    const text = (await readAll(await this.response(req))).toString('utf8');
    return (text.trim() ? JSON.parse(text) : undefined) as T;
  }

  /** Sends the request and reads the answer to its end, for calls whose body yumda does not need. */
  async call(req: EngineRequest): Promise<void> {
    (await this.response(req)).resume();
  }

  /**
   * A hijacked connection (attach, exec start): asked for with `Upgrade: tcp`, which the engine
   * answers with 101 and the raw stream on the socket. Some engines answer 200 and stream the
   * body instead; that response is returned as the stream then. Its own connection, never pooled.
   */
  hijack(req: EngineRequest): Promise<Readable> {
    return new Promise((resolve, reject) => {
      const r = this.send(req, { Connection: 'Upgrade', Upgrade: 'tcp' }, { agent: false });
      r.on('error', reject);
      r.on('upgrade', (res: IncomingMessage, socket: Socket, head: Buffer) => {
        if (head.length) socket.unshift(head);
        res.resume();
        resolve(socket);
      });
      r.on('response', (res) => {
        if (!ok(res)) errorOf(res).then(reject, reject);
        else resolve(res);
      });
    });
  }
}
