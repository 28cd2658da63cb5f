import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import path from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { Docker } from '../../src/docker/client.js';
import { WorkContainer } from '../../src/docker/container.js';
import { endpointOf } from '../../src/docker/endpoint.js';
import { engineLost } from '../../src/docker/engine.js';
import { type Frame, FrameDemuxer } from '../../src/docker/frames.js';
import { EngineError, queryString } from '../../src/docker/http.js';
import { buildImage } from '../../src/docker/images.js';
import { followProgress, JsonLines, ProgressError } from '../../src/docker/progress.js';
import { UserError } from '../../src/util/errors.js';
import { tempDir } from '../helpers/tmp.js';

/** A frame as the engine writes it: type, three zero bytes, the length, the payload. */
function frame(stream: 0 | 1 | 2, text: string): Buffer {
  const data = Buffer.from(text);
  const header = Buffer.alloc(8);
  header[0] = stream;
  header.writeUInt32BE(data.length, 4);
  return Buffer.concat([header, data]);
}

const show = (frames: Frame[]) => frames.map((f) => `${f.stream}:${f.data.toString()}`);

describe('the multiplexed stream of attach and exec, demultiplexed', () => {
  const two = Buffer.concat([frame(1, 'out\n'), frame(2, 'err\n')]);
  it.each<[string, Buffer[], string[]]>([
    ['one frame in one chunk', [frame(1, 'hello')], ['1:hello']],
    ['stdout and stderr interleaved', [Buffer.concat([frame(1, 'a'), frame(2, 'b'), frame(1, 'c')])], ['1:a', '2:b', '1:c']],
    ['a header split across chunks', [two.subarray(0, 3), two.subarray(3)], ['1:out\n', '2:err\n']],
    ['a payload split across chunks', [two.subarray(0, 10), two.subarray(10)], ['1:out\n', '2:err\n']],
    ['one byte at a time', [...two].map((b) => Buffer.from([b])), ['1:out\n', '2:err\n']],
    ['a zero-length frame gives nothing', [Buffer.concat([frame(1, ''), frame(2, 'x')])], ['2:x']],
    ['stdin (0) is taken as stdout', [frame(0, 'in')], ['1:in']],
  ])('%s', (_, chunks, want) => {
    const d = new FrameDemuxer();
    expect(show(chunks.flatMap((c) => d.push(c)))).toEqual(want);
    expect(d.leftover).toBe(0);
  });

  it('a frame the stream ended in the middle of is left over, not emitted', () => {
    const d = new FrameDemuxer();
    expect(show(d.push(frame(1, 'abcdef').subarray(0, 11)))).toEqual([]);
    expect(d.leftover).toBe(11);
  });
});

describe('the JSON progress stream of build and load', () => {
  it.each<[string, string[], unknown[]]>([
    ['one object per line', ['{"stream":"a"}\n{"stream":"b"}\n'], [{ stream: 'a' }, { stream: 'b' }]],
    ['an object split across chunks', ['{"stre', 'am":"a"}\r\n{"status":"b"}'], [{ stream: 'a' }, { status: 'b' }]],
    ['blank lines skipped', ['\n\r\n{"stream":"a"}\n\n'], [{ stream: 'a' }]],
    ['a line that is not JSON kept as text', ['not json\n'], [{ stream: 'not json' }]],
  ])('%s', (_, chunks, want) => {
    const lines = new JsonLines();
    expect([...chunks.flatMap((c) => lines.push(c)), ...lines.end()]).toEqual(want);
  });

  it('an error entry rejects, after the entries before it were seen', async () => {
    const seen: string[] = [];
    const stream = Readable.from(['{"stream":"Step 1/2"}\n{"stream":"Step 2/2"}\n', '{"errorDetail":{"message":"boom"},"error":"boom"}\n']);
    const p = followProgress(stream, (ev) => seen.push(ev.stream ?? ''));
    await expect(p).rejects.toThrow(ProgressError);
    await expect(p).rejects.toThrow('boom');
    expect(seen).toEqual(['Step 1/2', 'Step 2/2']);
  });

  it('without an error, resolves with every entry', async () => {
    expect(await followProgress(Readable.from(['{"stream":"Loaded image: x:1\\n"}\n']))).toEqual([{ stream: 'Loaded image: x:1\n' }]);
  });
});

describe('DOCKER_HOST, DOCKER_TLS_VERIFY and DOCKER_CERT_PATH', () => {
  const certs = { '/c/ca.pem': 'CA', '/c/cert.pem': 'CERT', '/c/key.pem': 'KEY' } as Record<string, string>;
  const files = { exists: (p: string) => p in certs, read: (p: string) => Buffer.from(certs[p]!) };
  const tls = (rejectUnauthorized: boolean) => ({ ca: Buffer.from('CA'), cert: Buffer.from('CERT'), key: Buffer.from('KEY'), rejectUnauthorized });
  it.each<[Record<string, string>, unknown]>([
    [{}, { socketPath: '/var/run/docker.sock' }],
    [{ DOCKER_HOST: 'unix:///run/user/1000/docker.sock' }, { socketPath: '/run/user/1000/docker.sock' }],
    [{ DOCKER_HOST: 'unix://' }, { socketPath: '/var/run/docker.sock' }],
    [{ DOCKER_HOST: 'tcp://10.0.0.2:2375' }, { host: '10.0.0.2', port: 2375 }],
    [{ DOCKER_HOST: '10.0.0.2:2375' }, { host: '10.0.0.2', port: 2375 }],
    [{ DOCKER_HOST: 'tcp://[::1]:2375' }, { host: '::1', port: 2375 }],
    [
      { DOCKER_HOST: 'tcp://h:2376', DOCKER_TLS_VERIFY: '1', DOCKER_CERT_PATH: '/c' },
      { host: 'h', port: 2376, tls: tls(true) },
    ],
    [
      { DOCKER_HOST: 'tcp://h', DOCKER_TLS_VERIFY: '1', DOCKER_CERT_PATH: '/c' },
      { host: 'h', port: 2376, tls: tls(true) },
    ],
    // the CLI's --tls without --tlsverify
    [
      { DOCKER_HOST: 'tcp://h:2376', DOCKER_TLS: '1', DOCKER_CERT_PATH: '/c' },
      { host: 'h', port: 2376, tls: tls(false) },
    ],
    // Docker's TLS port means TLS, as it did with dockerode
    [
      { DOCKER_HOST: 'tcp://h:2376', DOCKER_CERT_PATH: '/c' },
      { host: 'h', port: 2376, tls: tls(true) },
    ],
    [
      { DOCKER_HOST: 'tcp://h:2376', DOCKER_CERT_PATH: '/none' },
      { host: 'h', port: 2376, tls: { rejectUnauthorized: true } },
    ],
  ])('%j', (env, want) => {
    expect(endpointOf({ HOME: '/nohome', ...env }, files)).toEqual(want);
  });

  it("Docker Desktop's socket in the home directory when DOCKER_HOST is unset and it is there", () => {
    expect(endpointOf({ HOME: '/home/u' }, { exists: (p) => p === '/home/u/.docker/run/docker.sock', read: () => Buffer.alloc(0) })).toEqual({
      socketPath: '/home/u/.docker/run/docker.sock',
    });
  });

  it('query values: objects as JSON, undefined left out', () => {
    expect(queryString({ all: true, filters: { label: ['a=b'] }, platform: undefined })).toBe(`?all=true&filters=${encodeURIComponent('{"label":["a=b"]}')}`);
    expect(queryString({})).toBe('');
  });
});

interface Seen {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

type Route = (req: Seen, res: http.ServerResponse) => void;
type UpgradeRoute = (req: Seen, socket: Socket) => void;

/** An engine of the test's own: node:http on a unix socket, answering from the routes the test sets. */
describe('the client against an HTTP server on a unix socket', () => {
  const socketPath = path.join(tempDir('yumda-engine-'), 'docker.sock');
  const seen: Seen[] = [];
  let routes: Record<string, Route> = {};
  let upgrades: Record<string, UpgradeRoute> = {};
  const key = (s: Seen) => `${s.method} ${s.url.split('?')[0]}`;
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const s = { method: req.method!, url: req.url!, headers: req.headers, body: Buffer.concat(chunks) };
      seen.push(s);
      const route = routes[key(s)];
      if (route) route(s, res);
      else res.writeHead(404, { 'Content-Type': 'application/json' }).end(JSON.stringify({ message: `page not found: ${key(s)}` }));
    });
  });
  server.on('upgrade', (req: http.IncomingMessage, socket: Socket, head: Buffer) => {
    const chunks: Buffer[] = head.length ? [head] : [];
    const len = Number(req.headers['content-length'] ?? 0);
    const done = () => {
      const s = { method: req.method!, url: req.url!, headers: req.headers, body: Buffer.concat(chunks) };
      seen.push(s);
      upgrades[key(s)]?.(s, socket);
    };
    if (Buffer.concat(chunks).length >= len) return done();
    socket.on('data', (c: Buffer) => {
      chunks.push(c);
      if (Buffer.concat(chunks).length >= len) done();
    });
  });
  const docker = new Docker({ socketPath });
  const json =
    (status: number, body: unknown): Route =>
    (_, res) => {
      res.writeHead(status, { 'Content-Type': 'application/json' }).end(body === undefined ? undefined : JSON.stringify(body));
    };

  beforeAll(() => new Promise<void>((resolve) => server.listen(socketPath, resolve)));
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));
  beforeEach(() => {
    seen.length = 0;
    routes = {};
    upgrades = {};
  });

  it('paths, queries and JSON bodies of the calls yumda makes', async () => {
    routes = {
      'GET /_ping': (_, res) => res.end('OK'),
      'GET /info': json(200, { Architecture: 'aarch64' }),
      'GET /images/deps/poppler:al2023/json': json(200, { Id: 'sha256:1', RepoDigests: [] }),
      'GET /containers/json': json(200, [{ Id: 'c1', Labels: { a: 'b' } }]),
      'POST /volumes/create': json(201, { Name: 'v' }),
      'DELETE /volumes/v%201': json(204, undefined),
      'GET /networks/my-net': json(200, { Id: 'n', Name: 'my-net' }),
      'POST /containers/create': json(201, { Id: 'c9', Warnings: [] }),
    };
    await docker.ping();
    expect(await docker.info()).toEqual({ Architecture: 'aarch64' });
    expect((await docker.getImage('deps/poppler:al2023').inspect()).Id).toBe('sha256:1');
    expect(await docker.listContainers({ all: true, filters: { label: ['org.yumda.owner=yumda'] } })).toEqual([{ Id: 'c1', Labels: { a: 'b' } }]);
    await docker.createVolume({ Name: 'v', Labels: { x: 'y' } });
    await docker.getVolume('v 1').remove({ force: true });
    expect((await docker.getNetwork('my-net').inspect()).Name).toBe('my-net');
    const c = await docker.createContainer({ Image: 'img', Cmd: ['true'] }, { platform: 'linux/arm64' });
    expect(c.id).toBe('c9');
    expect(seen.map((s) => `${s.method} ${decodeURIComponent(s.url)}`)).toEqual([
      'GET /_ping',
      'GET /info',
      'GET /images/deps/poppler:al2023/json',
      'GET /containers/json?all=true&filters={"label":["org.yumda.owner=yumda"]}',
      'POST /volumes/create',
      'DELETE /volumes/v 1?force=true',
      'GET /networks/my-net',
      'POST /containers/create?platform=linux/arm64',
    ]);
    expect(JSON.parse(seen[4]!.body.toString())).toEqual({ Name: 'v', Labels: { x: 'y' } });
    expect(seen[4]!.headers['content-type']).toBe('application/json');
    expect(JSON.parse(seen[7]!.body.toString())).toEqual({ Image: 'img', Cmd: ['true'] });
  });

  it.each<[string, Route, number, string]>([
    ['404 with the JSON message', json(404, { message: 'No such image: x' }), 404, 'No such image: x'],
    ['409 conflict', json(409, { message: 'volume is in use - [c1]' }), 409, 'volume is in use - [c1]'],
    ['500 with a text body', (_, res) => res.writeHead(500).end('runtime gone\n'), 500, 'runtime gone'],
    ['an empty 400', (_, res) => res.writeHead(400).end(), 400, 'HTTP 400 Bad Request'],
  ])('HTTP %s becomes an EngineError with its statusCode', async (_, route, status, message) => {
    routes = { 'GET /images/x/json': route };
    const e = await docker
      .getImage('x')
      .inspect()
      .catch((err: unknown) => err);
    expect(e).toBeInstanceOf(EngineError);
    expect(e).toMatchObject({ statusCode: status, message });
  });

  it('a 304 (a container already started) is an error with statusCode 304, as dockerode made it', async () => {
    routes = { 'POST /containers/c1/start': (_, res) => res.writeHead(304).end() };
    await expect(docker.getContainer('c1').start()).rejects.toMatchObject({ statusCode: 304 });
  });

  it('tar bodies are streamed (chunked, no length); getArchive answers a stream', async () => {
    routes = {
      'PUT /containers/c1/archive': json(200, undefined),
      'GET /containers/c1/archive': (_, res) => {
        res.writeHead(200, { 'Content-Type': 'application/x-tar' });
        res.write('part1-');
        setTimeout(() => res.end('part2'), 20);
      },
    };
    await docker.getContainer('c1').putArchive('/opt', Readable.from([Buffer.from('tar-'), Buffer.from('bytes')]));
    expect(seen[0]!.url).toBe('/containers/c1/archive?path=%2Fopt');
    expect(seen[0]!.headers['transfer-encoding']).toBe('chunked');
    expect(seen[0]!.headers['content-length']).toBeUndefined();
    expect(seen[0]!.headers['content-type']).toBe('application/x-tar');
    expect(seen[0]!.body.toString()).toBe('tar-bytes');
    const got: string[] = [];
    for await (const c of await docker.getContainer('c1').getArchive('/etc/os-release')) got.push(String(c));
    expect(got.join('')).toBe('part1-part2');
  });

  it("a build's error entry is one UserError naming the image, with the last output as its hint", async () => {
    routes = {
      'POST /build': (_, res) => {
        res.writeHead(200, { 'Content-Type': 'application/json' });
        res.write('{"stream":"Step 1/2 : FROM debian\\n"}\r\n{"stream":" ---\\u003e abc\\n"}\r\n');
        res.end('{"errorDetail":{"message":"pull access denied"},"error":"pull access denied"}\r\n');
      },
    };
    const ctx = tempDir('yumda-ctx-');
    writeFileSync(path.join(ctx, 'Dockerfile'), 'FROM debian\n');
    mkdirSync(path.join(ctx, 'sub'));
    writeFileSync(path.join(ctx, 'sub', 'f'), 'x');
    const lines: string[] = [];
    const e = await buildImage(docker, 'yumda/x:1', ctx, { network: 'host', buildArgs: { BASE: 'debian:12' }, onLine: (l) => lines.push(l) }).catch((err: unknown) => err);
    expect(e).toBeInstanceOf(UserError);
    expect((e as UserError).message).toBe(`building image yumda/x:1 from ${ctx} failed: pull access denied`);
    expect((e as UserError).hint).toBe('last output: Step 1/2 : FROM debian |  ---> abc');
    expect(lines).toEqual(['Step 1/2 : FROM debian', ' ---> abc']);
    const q = new URL(seen[0]!.url, 'http://x').searchParams;
    expect(Object.fromEntries(q)).toEqual({ t: 'yumda/x:1', rm: 'true', forcerm: 'true', networkmode: 'host', buildargs: '{"BASE":"debian:12"}' });
    expect(seen[0]!.headers['content-type']).toBe('application/x-tar');
    // the context went as a tar: its entries' names are in the body
    expect(seen[0]!.body.includes('Dockerfile')).toBe(true);
    expect(seen[0]!.body.includes('sub/f')).toBe(true);
  });

  /** The engine's hijacked answer: 101 with the raw stream, or (some engines) a close-delimited 200. */
  const hijacked =
    (status: 101 | 200, chunks: Buffer[]): UpgradeRoute =>
    (_, socket) => {
      socket.write(
        status === 101
          ? 'HTTP/1.1 101 UPGRADED\r\nContent-Type: application/vnd.docker.raw-stream\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\n'
          : 'HTTP/1.1 200 OK\r\nContent-Type: application/vnd.docker.raw-stream\r\n\r\n',
      );
      // written in pieces that cut frames, as a connection may deliver them
      const all = Buffer.concat(chunks);
      let at = 0;
      const next = () => {
        if (at >= all.length) return socket.end();
        socket.write(all.subarray(at, at + 5));
        at += 5;
        setTimeout(next, 1);
      };
      next();
    };

  it.each([101, 200] as const)('exec in a WorkContainer: the %s answer demultiplexed into lines, the exit code from the exec inspect', async (status) => {
    routes = {
      'GET /containers/json': json(200, []),
      'GET /volumes': json(200, { Volumes: null }),
      'POST /containers/create': json(201, { Id: 'c1' }),
      'POST /containers/c1/start': json(204, undefined),
      'POST /containers/c1/exec': json(201, { Id: 'e1' }),
      'GET /exec/e1/json': json(200, { ExitCode: 3, Running: false }),
      'DELETE /containers/c1': json(204, undefined),
    };
    upgrades = { 'POST /exec/e1/start': hijacked(status, [frame(1, 'line 1\nli'), frame(2, 'oops\n'), frame(1, 'ne 2\n'), frame(1, '')]) };
    const c = await WorkContainer.start(docker, { image: 'img', network: 'none' });
    const outLines: string[] = [];
    const r = await c.exec(['sh', '-c', 'x'], { env: { A: '1' }, onStdoutLine: (l) => outLines.push(l) });
    await c.remove();
    expect(r).toEqual({ exitCode: 3, stdout: 'line 1\nline 2', stderr: 'oops' });
    expect(outLines).toEqual(['line 1', 'line 2']);
    const start = seen.find((s) => s.url === '/exec/e1/start')!;
    expect(start.headers).toMatchObject({ connection: 'Upgrade', upgrade: 'tcp', 'content-type': 'application/json' });
    expect(JSON.parse(start.body.toString())).toEqual({ Detach: false, Tty: false });
    expect(JSON.parse(seen.find((s) => s.url === '/containers/c1/exec')!.body.toString())).toEqual({
      Cmd: ['sh', '-c', 'x'],
      AttachStdout: true,
      AttachStderr: true,
      Env: ['A=1'],
    });
    expect(seen.find((s) => s.method === 'DELETE')!.url).toBe('/containers/c1?force=true&v=true');
  });

  it("run(): attached before start, the main process's output and its exit status from wait", async () => {
    routes = {
      'GET /containers/json': json(200, []),
      'GET /volumes': json(200, { Volumes: [] }),
      'POST /containers/create': json(201, { Id: 'c2' }),
      'POST /containers/c2/start': json(204, undefined),
      'POST /containers/c2/wait': json(200, { StatusCode: 2 }),
    };
    upgrades = { 'POST /containers/c2/attach': hijacked(101, [frame(1, 'hi\n'), frame(2, 'e\n')]) };
    const c = await WorkContainer.start(docker, { image: 'img', cmd: ['x'] });
    expect(await c.run()).toEqual({ exitCode: 2, stdout: 'hi', stderr: 'e' });
    const order = seen.map((s) => s.url.split('?')[0]);
    expect(order.indexOf('/containers/c2/attach')).toBeLessThan(order.indexOf('/containers/c2/start'));
    expect(seen.find((s) => s.url.startsWith('/containers/c2/attach'))!.url).toBe('/containers/c2/attach?stream=true&stdout=true&stderr=true');
  });

  it('an engine that never answers: the ping is aborted by its signal', async () => {
    routes = { 'GET /_ping': () => undefined };
    const abort = new AbortController();
    setTimeout(() => abort.abort(), 50);
    await expect(docker.ping({ signal: abort.signal })).rejects.toMatchObject({ name: 'AbortError' });
  });
});

describe('connection errors come as Node raised them', () => {
  it('ENOENT from connect, which engineLost reads as a lost engine once one answered', async () => {
    const e = (await new Docker({ socketPath: '/nonexistent/docker.sock' }).ping().catch((err: unknown) => err)) as NodeJS.ErrnoException;
    expect(e).toMatchObject({ code: 'ENOENT', syscall: 'connect' });
    // before any engine answered, engineLost leaves it as it is
    expect(engineLost(e)).toBe(e);
  });

  it('ECONNREFUSED from a socket path nobody listens on', async () => {
    const file = path.join(tempDir('yumda-engine-'), 'docker.sock');
    writeFileSync(file, '');
    await expect(new Docker({ socketPath: file }).ping()).rejects.toMatchObject({ code: 'ECONNREFUSED' });
  });
});

describe('tcp:// and TLS as the docker CLI sets it up', () => {
  const dir = tempDir('yumda-tls-');
  const ok = (_: http.IncomingMessage, res: http.ServerResponse) => res.end('OK');
  const listen = (server: http.Server | https.Server) => new Promise<number>((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port)));
  const servers: Array<http.Server | https.Server> = [];
  afterAll(() => {
    for (const s of servers) s.close();
  });

  it('tcp:// without TLS: plain HTTP to the host and port', async () => {
    const server = http.createServer(ok);
    servers.push(server);
    const port = await listen(server);
    await new Docker(endpointOf({ DOCKER_HOST: `tcp://127.0.0.1:${port}`, HOME: dir })).ping();
  });

  it('DOCKER_TLS_VERIFY with DOCKER_CERT_PATH: the engine is verified against ca.pem; without the CA it is refused', async () => {
    // a self-signed certificate for 127.0.0.1, which is its own CA
    const r = spawnSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-days',
        '1',
        '-subj',
        '/CN=127.0.0.1',
        '-addext',
        'subjectAltName=IP:127.0.0.1',
        '-keyout',
        path.join(dir, 'key.pem'),
        '-out',
        path.join(dir, 'ca.pem'),
      ],
      { encoding: 'utf8' },
    );
    expect(r.status, r.stderr).toBe(0);
    const server = https.createServer({ key: readFileSync(path.join(dir, 'key.pem')), cert: readFileSync(path.join(dir, 'ca.pem')) }, ok);
    servers.push(server);
    const port = await listen(server);
    await new Docker(endpointOf({ DOCKER_HOST: `tcp://127.0.0.1:${port}`, DOCKER_TLS_VERIFY: '1', DOCKER_CERT_PATH: dir, HOME: dir })).ping();
    const elsewhere = tempDir('yumda-tls-');
    await expect(
      new Docker(endpointOf({ DOCKER_HOST: `tcp://127.0.0.1:${port}`, DOCKER_TLS_VERIFY: '1', DOCKER_CERT_PATH: elsewhere, HOME: elsewhere })).ping(),
    ).rejects.toMatchObject({
      code: 'DEPTH_ZERO_SELF_SIGNED_CERT',
    });
    // DOCKER_TLS alone: TLS without verifying, as `docker --tls`
    await new Docker(endpointOf({ DOCKER_HOST: `tcp://127.0.0.1:${port}`, DOCKER_TLS: '1', DOCKER_CERT_PATH: elsewhere, HOME: elsewhere })).ping();
  });
});
