import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Runtime as LambdaRuntimeEnum } from '@aws-sdk/client-lambda';

/**
 * A loopback stand-in for the few AWS Lambda and S3 operations `yumda publish` calls, written from
 * the public API references (Lambda's REST-JSON layer API, S3's PutObject). Every request must carry
 * a valid Signature Version 4 for the test credentials, verified here by hand from the SigV4
 * specification; failures (403, 429, 500) can be injected per operation so error paths are tested.
 */

export interface Credentials {
  accessKeyId: string;
  secretAccessKey: string;
}

// ---------------------------------------------------------------------------------------------
// Signature Version 4, from the specification: canonical request, string to sign, HMAC chain.

/** RFC 3986 percent-encoding, as SigV4 requires (encodeURIComponent leaves !'()* alone). */
export function rfc3986(s: string): string {
  return encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

function hmac(key: Buffer | string, data: string): Buffer {
  return createHmac('sha256', key).update(data, 'utf8').digest();
}

export function sha256Hex(data: Buffer | string): string {
  return createHash('sha256').update(data).digest('hex');
}

export interface SignedRequest {
  method: string;
  /** Path and query as sent on the wire (already percent-encoded once). */
  url: string;
  /** Raw header list, name/value pairs in arrival order. */
  rawHeaders: string[];
  body: Buffer;
}

export type SignatureCheck =
  | { ok: true; accessKeyId: string; region: string; service: string }
  | { ok: false; code: 'MissingAuthenticationToken' | 'UnrecognizedClient' | 'SignatureDoesNotMatch' | 'RequestExpired' | 'ContentSha256Mismatch'; message: string };

/** The canonical URI: S3 uses the path as sent; other services encode each segment once more. */
function canonicalUri(rawPath: string, service: string): string {
  if (service === 's3') return rawPath || '/';
  const segments: string[] = [];
  for (const seg of rawPath.split('/')) {
    if (seg === '' || seg === '.') continue;
    if (seg === '..') segments.pop();
    else segments.push(seg);
  }
  const trailing = rawPath.endsWith('/') && segments.length ? '/' : '';
  return '/' + segments.map(rfc3986).join('/') + trailing;
}

function canonicalQuery(rawQuery: string): string {
  if (!rawQuery) return '';
  return rawQuery
    .split('&')
    .filter(Boolean)
    .map((pair) => {
      const i = pair.indexOf('=');
      const k = decodeURIComponent((i < 0 ? pair : pair.slice(0, i)).replace(/\+/g, '%20'));
      const v = i < 0 ? '' : decodeURIComponent(pair.slice(i + 1).replace(/\+/g, '%20'));
      return [rfc3986(k), rfc3986(v)] as const;
    })
    .sort(([ak, av], [bk, bv]) => (ak === bk ? (av < bv ? -1 : av > bv ? 1 : 0) : ak < bk ? -1 : 1))
    .map(([k, v]) => `${k}=${v}`)
    .join('&');
}

export function signingKey(secret: string, date: string, region: string, service: string): Buffer {
  return hmac(hmac(hmac(hmac(`AWS4${secret}`, date), region), service), 'aws4_request');
}

export function verifySigV4(req: SignedRequest, creds: Credentials, now = Date.now()): SignatureCheck {
  const headers = new Map<string, string[]>();
  for (let i = 0; i < req.rawHeaders.length; i += 2) {
    const name = req.rawHeaders[i]!.toLowerCase();
    headers.set(name, [...(headers.get(name) ?? []), req.rawHeaders[i + 1]!]);
  }
  const auth = headers.get('authorization')?.[0];
  if (!auth) return { ok: false, code: 'MissingAuthenticationToken', message: 'Missing Authentication Token' };
  const m = /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request,\s*SignedHeaders=([^,]+),\s*Signature=([0-9a-f]{64})$/.exec(auth);
  if (!m) return { ok: false, code: 'SignatureDoesNotMatch', message: `malformed Authorization header: ${auth}` };
  const [, accessKeyId, date, region, service, signedHeaderList, signature] = m as unknown as [string, string, string, string, string, string, string];
  if (accessKeyId !== creds.accessKeyId) return { ok: false, code: 'UnrecognizedClient', message: 'The security token included in the request is invalid.' };
  const amzDate = headers.get('x-amz-date')?.[0];
  if (!amzDate || !/^\d{8}T\d{6}Z$/.test(amzDate) || amzDate.slice(0, 8) !== date) {
    return { ok: false, code: 'SignatureDoesNotMatch', message: 'x-amz-date is missing or does not match the credential scope' };
  }
  const t = Date.UTC(+amzDate.slice(0, 4), +amzDate.slice(4, 6) - 1, +amzDate.slice(6, 8), +amzDate.slice(9, 11), +amzDate.slice(11, 13), +amzDate.slice(13, 15));
  if (Math.abs(now - t) > 15 * 60 * 1000) return { ok: false, code: 'RequestExpired', message: `Signature expired: ${amzDate}` };

  const signed = signedHeaderList.split(';');
  if (!signed.includes('host')) return { ok: false, code: 'SignatureDoesNotMatch', message: 'host is not a signed header' };
  const canonicalHeaders = signed.map((h) => `${h}:${(headers.get(h) ?? []).map((v) => v.trim().replace(/\s+/g, ' ')).join(',')}\n`).join('');

  const declared = headers.get('x-amz-content-sha256')?.[0];
  const bodyHash = sha256Hex(req.body);
  if (declared && !declared.startsWith('UNSIGNED') && !declared.startsWith('STREAMING') && declared !== bodyHash) {
    return { ok: false, code: 'ContentSha256Mismatch', message: "The provided 'x-amz-content-sha256' header does not match what was computed." };
  }
  const payloadHash = declared ?? bodyHash;
  const q = req.url.indexOf('?');
  const rawPath = q < 0 ? req.url : req.url.slice(0, q);
  const rawQuery = q < 0 ? '' : req.url.slice(q + 1);
  const canonicalRequest = [req.method, canonicalUri(rawPath, service), canonicalQuery(rawQuery), canonicalHeaders, signedHeaderList, payloadHash].join('\n');
  const scope = `${date}/${region}/${service}/aws4_request`;
  const stringToSign = ['AWS4-HMAC-SHA256', amzDate, scope, sha256Hex(canonicalRequest)].join('\n');
  const expected = hmac(signingKey(creds.secretAccessKey, date, region, service), stringToSign);
  const given = Buffer.from(signature, 'hex');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
    return {
      ok: false,
      code: 'SignatureDoesNotMatch',
      message: `The request signature we calculated does not match the signature you provided. The canonical request was:\n${canonicalRequest}`,
    };
  }
  return { ok: true, accessKeyId, region, service };
}

// ---------------------------------------------------------------------------------------------
// The service.

export type Operation = 'ListLayerVersions' | 'GetLayerVersion' | 'PublishLayerVersion' | 'AddLayerVersionPermission' | 'PutObject';

interface LayerVersion {
  version: number;
  codeSha256: string;
  codeSize: number;
  description?: string;
  compatibleRuntimes?: string[];
  compatibleArchitectures?: string[];
  licenseInfo?: string;
  created: string;
  statements: Array<{ Sid: string; Principal: string; Action: string }>;
}

export interface Call {
  op: Operation | 'unknown';
  region: string;
  status: number;
  /** Set for PublishLayerVersion: how the content came (ZipFile in the request or an S3 object). */
  content?: 'ZipFile' | 'S3';
  bytes: number;
}

interface Injected {
  op: Operation;
  status: 403 | 429 | 500;
  times: number;
}

export interface FakeAws {
  url: string;
  accountId: string;
  calls: Call[];
  /** Layers by region and name. */
  layers: Map<string, Map<string, LayerVersion[]>>;
  /** S3 objects by `bucket/key`. */
  objects: Map<string, Buffer>;
  buckets: Set<string>;
  /** The next `times` calls of `op` fail with `status` (AccessDenied / throttling / internal error). */
  inject(op: Operation, status: 403 | 429 | 500, times?: number): void;
  /** Rejections of bad signatures (credential, signature, expiry), newest last. */
  rejected: Array<{ code: string; message: string }>;
  close(): Promise<void>;
}

const LAMBDA_ERROR: Record<number, string> = { 403: 'AccessDeniedException', 429: 'TooManyRequestsException', 500: 'ServiceException' };
const S3_ERROR: Record<number, string> = { 403: 'AccessDenied', 429: 'SlowDown', 500: 'InternalError' };

function readBody(req: http.IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function route(method: string, rawPath: string, service: string): { op: Operation; params: string[] } | undefined {
  const path = decodeURIComponent(rawPath);
  if (service === 's3') {
    const m = /^\/([^/]+)\/(.+)$/.exec(path);
    if (method === 'PUT' && m) return { op: 'PutObject', params: [m[1]!, m[2]!] };
    return undefined;
  }
  let m = /^\/2018-10-31\/layers\/([^/]+)\/versions$/.exec(path);
  if (m && method === 'GET') return { op: 'ListLayerVersions', params: [m[1]!] };
  if (m && method === 'POST') return { op: 'PublishLayerVersion', params: [m[1]!] };
  m = /^\/2018-10-31\/layers\/([^/]+)\/versions\/(\d+)$/.exec(path);
  if (m && method === 'GET') return { op: 'GetLayerVersion', params: [m[1]!, m[2]!] };
  m = /^\/2018-10-31\/layers\/([^/]+)\/versions\/(\d+)\/policy$/.exec(path);
  if (m && method === 'POST') return { op: 'AddLayerVersionPermission', params: [m[1]!, m[2]!] };
  return undefined;
}

export async function startFakeAws(creds: Credentials, opts: { accountId?: string } = {}): Promise<FakeAws> {
  const accountId = opts.accountId ?? '123456789012';
  const layers = new Map<string, Map<string, LayerVersion[]>>();
  const objects = new Map<string, Buffer>();
  const buckets = new Set<string>();
  const calls: Call[] = [];
  const injected: Injected[] = [];
  const rejected: Array<{ code: string; message: string }> = [];

  const layerArn = (region: string, name: string) => `arn:aws:lambda:${region}:${accountId}:layer:${name}`;
  const versionJson = (region: string, name: string, v: LayerVersion) => ({
    Content: { Location: `http://127.0.0.1/fake/${name}/${v.version}.zip`, CodeSha256: v.codeSha256, CodeSize: v.codeSize },
    LayerArn: layerArn(region, name),
    LayerVersionArn: `${layerArn(region, name)}:${v.version}`,
    Description: v.description,
    CreatedDate: v.created,
    Version: v.version,
    CompatibleRuntimes: v.compatibleRuntimes,
    CompatibleArchitectures: v.compatibleArchitectures,
    LicenseInfo: v.licenseInfo,
  });

  const server = http.createServer(async (req, res) => {
    const body = await readBody(req);
    const url = req.url ?? '/';
    const rawPath = url.split('?')[0]!;
    const authService = /Credential=[^/]+\/\d{8}\/[^/]+\/([^/]+)\//.exec(req.headers.authorization ?? '')?.[1] ?? 'lambda';
    const found = route(req.method ?? 'GET', rawPath, authService);
    const call: Call = { op: found?.op ?? 'unknown', region: '', status: 0, bytes: body.length };
    calls.push(call);

    const reply = (status: number, payload: unknown, headers: Record<string, string> = {}) => {
      call.status = status;
      const text = typeof payload === 'string' ? payload : JSON.stringify(payload);
      res.writeHead(status, { 'content-type': typeof payload === 'string' ? 'application/xml' : 'application/json', 'x-amzn-requestid': `req-${calls.length}`, ...headers });
      res.end(text);
    };
    const fail = (status: number, service: string, code: string, message: string) => {
      if (service === 's3') {
        reply(
          status,
          `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${message.replace(/&/g, '&amp;').replace(/</g, '&lt;')}</Message><RequestId>req-${calls.length}</RequestId></Error>`,
        );
      } else {
        reply(status, { Type: 'User', message }, { 'x-amzn-errortype': code });
      }
    };

    const check = verifySigV4({ method: req.method ?? 'GET', url, rawHeaders: req.rawHeaders, body }, creds);
    if (!check.ok) {
      rejected.push({ code: check.code, message: check.message });
      const code =
        authService === 's3'
          ? check.code === 'UnrecognizedClient'
            ? 'InvalidAccessKeyId'
            : check.code === 'ContentSha256Mismatch'
              ? 'XAmzContentSHA256Mismatch'
              : check.code
          : check.code === 'UnrecognizedClient'
            ? 'UnrecognizedClientException'
            : check.code === 'SignatureDoesNotMatch'
              ? 'InvalidSignatureException'
              : check.code;
      return fail(check.code === 'ContentSha256Mismatch' ? 400 : 403, authService, code, check.message);
    }
    const { region, service } = check;
    call.region = region;
    if (!found) return fail(404, service, service === 's3' ? 'NotImplemented' : 'UnknownOperationException', `no such operation: ${req.method} ${rawPath}`);
    if ((found.op === 'PutObject') !== (service === 's3')) return fail(403, service, 'InvalidSignatureException', `credential scope names service ${service}`);

    const inj = injected.find((i) => i.op === found.op && i.times > 0);
    if (inj) {
      inj.times--;
      const action = found.op === 'PutObject' ? 's3:PutObject' : `lambda:${found.op}`;
      const message =
        inj.status === 403
          ? `User: arn:aws:iam::${accountId}:user/ci is not authorized to perform: ${action} on resource: ${found.op === 'PutObject' ? `arn:aws:s3:::${found.params[0]}/${found.params[1]}` : `${layerArn(region, found.params[0]!)}`} because no identity-based policy allows the ${action} action`
          : inj.status === 429
            ? 'Rate exceeded'
            : 'An internal error occurred';
      return fail(inj.status, service, (service === 's3' ? S3_ERROR : LAMBDA_ERROR)[inj.status]!, message);
    }

    const regionLayers = layers.get(region) ?? new Map<string, LayerVersion[]>();
    layers.set(region, regionLayers);
    switch (found.op) {
      case 'PutObject': {
        const [bucket, key] = found.params as [string, string];
        if (!buckets.has(bucket)) return fail(404, 's3', 'NoSuchBucket', `The specified bucket does not exist: ${bucket}`);
        objects.set(`${bucket}/${key}`, body);
        return reply(200, '', { etag: `"${createHash('md5').update(body).digest('hex')}"` });
      }
      case 'ListLayerVersions': {
        const versions = [...(regionLayers.get(found.params[0]!) ?? [])].reverse();
        return reply(200, {
          LayerVersions: versions.map((v) => {
            const { Content: _content, LayerArn: _arn, ...item } = versionJson(region, found.params[0]!, v);
            return item;
          }),
        });
      }
      case 'GetLayerVersion': {
        const v = regionLayers.get(found.params[0]!)?.find((x) => x.version === Number(found.params[1]));
        if (!v) return fail(404, service, 'ResourceNotFoundException', 'The resource you requested does not exist.');
        return reply(200, versionJson(region, found.params[0]!, v));
      }
      case 'PublishLayerVersion': {
        const name = found.params[0]!;
        const input = JSON.parse(body.toString('utf8')) as {
          Content: { ZipFile?: string; S3Bucket?: string; S3Key?: string };
          Description?: string;
          CompatibleRuntimes?: string[];
          CompatibleArchitectures?: string[];
          LicenseInfo?: string;
        };
        // Lambda's API model: at most 15 CompatibleRuntimes, each a value of its Runtime enum
        const runtimes = input.CompatibleRuntimes ?? [];
        if (runtimes.length > 15)
          return fail(
            400,
            service,
            'ValidationException',
            `1 validation error detected: Value '[${runtimes.join(', ')}]' at 'compatibleRuntimes' failed to satisfy constraint: Member must have length less than or equal to 15`,
          );
        const unknown = runtimes.find((r) => !(Object.values(LambdaRuntimeEnum) as string[]).includes(r));
        if (unknown) return fail(400, service, 'ValidationException', `1 validation error detected: Value '${unknown}' at 'compatibleRuntimes' failed to satisfy enum value set`);
        let zip: Buffer | undefined;
        if (input.Content.ZipFile) {
          zip = Buffer.from(input.Content.ZipFile, 'base64');
          call.content = 'ZipFile';
          if (zip.length > 50 * 1024 * 1024)
            return fail(413, service, 'RequestEntityTooLargeException', 'Request must be smaller than 69905067 bytes for the PublishLayerVersion operation');
        } else if (input.Content.S3Bucket && input.Content.S3Key) {
          zip = objects.get(`${input.Content.S3Bucket}/${input.Content.S3Key}`);
          call.content = 'S3';
          if (!zip)
            return fail(
              400,
              service,
              'InvalidParameterValueException',
              `Error occurred while GetObject. S3 Error Code: NoSuchKey. S3 Error Message: The specified key does not exist.`,
            );
        }
        if (!zip) return fail(400, service, 'InvalidParameterValueException', 'Content is required');
        const list = regionLayers.get(name) ?? [];
        const v: LayerVersion = {
          version: (list.at(-1)?.version ?? 0) + 1,
          codeSha256: createHash('sha256').update(zip).digest('base64'),
          codeSize: zip.length,
          ...(input.Description ? { description: input.Description } : {}),
          ...(input.CompatibleRuntimes ? { compatibleRuntimes: input.CompatibleRuntimes } : {}),
          ...(input.CompatibleArchitectures ? { compatibleArchitectures: input.CompatibleArchitectures } : {}),
          ...(input.LicenseInfo ? { licenseInfo: input.LicenseInfo } : {}),
          created: new Date().toISOString(),
          statements: [],
        };
        list.push(v);
        regionLayers.set(name, list);
        return reply(201, versionJson(region, name, v));
      }
      case 'AddLayerVersionPermission': {
        const v = regionLayers.get(found.params[0]!)?.find((x) => x.version === Number(found.params[1]));
        if (!v) return fail(404, service, 'ResourceNotFoundException', 'Layer version does not exist');
        const input = JSON.parse(body.toString('utf8')) as { StatementId: string; Action: string; Principal: string };
        if (v.statements.some((s) => s.Sid === input.StatementId))
          return fail(409, service, 'ResourceConflictException', `The statement id (${input.StatementId}) provided already exists.`);
        const statement = { Sid: input.StatementId, Principal: input.Principal, Action: input.Action };
        v.statements.push(statement);
        return reply(201, {
          Statement: JSON.stringify({ ...statement, Effect: 'Allow', Resource: `${layerArn(region, found.params[0]!)}:${v.version}` }),
          RevisionId: `rev-${v.statements.length}`,
        });
      }
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    accountId,
    calls,
    layers,
    objects,
    buckets,
    rejected,
    inject(op, status, times = 1) {
      injected.push({ op, status, times });
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** The environment that points the AWS SDK (in a yumda child process) at the fake, with the test credentials only. */
export function fakeAwsEnv(aws: FakeAws, creds: Credentials): Record<string, string | undefined> {
  return {
    AWS_ENDPOINT_URL_LAMBDA: aws.url,
    AWS_ENDPOINT_URL_S3: aws.url,
    AWS_ACCESS_KEY_ID: creds.accessKeyId,
    AWS_SECRET_ACCESS_KEY: creds.secretAccessKey,
    AWS_SESSION_TOKEN: undefined,
    AWS_PROFILE: undefined,
    AWS_REGION: undefined,
    AWS_DEFAULT_REGION: undefined,
    AWS_ENDPOINT_URL: undefined,
    AWS_MAX_ATTEMPTS: undefined,
    AWS_CONFIG_FILE: '/nonexistent/yumda-test-aws-config',
    AWS_SHARED_CREDENTIALS_FILE: '/nonexistent/yumda-test-aws-credentials',
    AWS_EC2_METADATA_DISABLED: 'true',
  };
}
