import { readFileSync } from 'node:fs';
import {
  AddLayerVersionPermissionCommand,
  GetLayerVersionCommand,
  LambdaClient,
  ListLayerVersionsCommand,
  PublishLayerVersionCommand,
  type Architecture,
  type LayerVersionContentInput,
  type Runtime as LambdaRuntime,
} from '@aws-sdk/client-lambda';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { formatBytes } from '../util/format.js';
import { loadTarget } from '../registry/load.js';
import { MAX_COMPATIBLE_RUNTIMES } from '../registry/lambda-runtimes.js';
import { UserError } from '../util/errors.js';
import type { LayerZipInfo } from './layer-zip.js';
import { defaultDescription, runtimesToday, uploadPlan, type UploadPlan } from './plan.js';

export interface PublishOptions {
  name: string;
  regions: string[];
  /** Bucket for zips over the direct-upload limit; `{region}` is replaced (a layer's S3 object must be in its region). */
  s3Bucket?: string;
  s3Prefix: string;
  /** Account IDs (or `*`) allowed to use the new version. */
  principals: string[];
  description?: string;
  licenseInfo?: string;
  /** YYYY-MM-DD the runtimes' deprecation dates are compared with (default: today). */
  today?: string;
}

export interface RegionResult {
  region: string;
  status: 'published' | 'unchanged';
  version: number;
  layerArn: string;
  layerVersionArn: string;
  codeSha256: string;
  upload?: UploadPlan;
  permissions: Array<{ principal: string; statementId: string; status: 'granted' | 'already granted' }>;
}

/** The IAM action each API operation needs: what a denied call is missing. */
const IAM_ACTION: Record<string, string> = {
  ListLayerVersions: 'lambda:ListLayerVersions',
  GetLayerVersion: 'lambda:GetLayerVersion',
  PublishLayerVersion: 'lambda:PublishLayerVersion',
  AddLayerVersionPermission: 'lambda:AddLayerVersionPermission',
  PutObject: 's3:PutObject',
};

interface AwsError {
  name?: string;
  message?: string;
  code?: string;
  $fault?: string;
  $metadata?: { httpStatusCode?: number; attempts?: number };
}

/** One line for a failed call: the region, the operation, and what to do about it. */
export function explainAwsError(e: unknown, operation: string, region: string, extra = ''): UserError {
  const err = e as AwsError;
  const status = err.$metadata?.httpStatusCode;
  const attempts = err.$metadata?.attempts;
  const name = err.name ?? 'Error';
  const said = (err.message ?? '').replace(/\s+/g, ' ').trim();
  const where = `${operation} in ${region}`;
  if (name === 'CredentialsProviderError' || /Could not load credentials/i.test(said)) {
    return new UserError(`${where}: no AWS credentials found`, {
      hint: 'set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, AWS_PROFILE, or (in CI) AWS_ROLE_ARN with AWS_WEB_IDENTITY_TOKEN_FILE',
    });
  }
  if (status === 403 || /AccessDenied|UnauthorizedOperation|NotAuthorized/i.test(name)) {
    const action = IAM_ACTION[operation] ?? operation;
    const signature = /Signature|UnrecognizedClient|InvalidAccessKeyId|InvalidClientTokenId/.test(name);
    if (signature) return new UserError(`${where} was refused (${name}): the AWS credentials are not valid${said ? ` (AWS said: ${said})` : ''}`);
    return new UserError(`${where} was denied (${name}): the credentials lack permission ${action}${extra}${said ? ` (AWS said: ${said})` : ''}`, {
      hint: `allow ${action} on the layer for the role or user that runs yumda publish`,
    });
  }
  if (status === 429 || /Throttl|TooManyRequests|SlowDown/i.test(name)) {
    return new UserError(`${where} was throttled (${name}) and still was after ${attempts ?? 'several'} attempts`, { hint: 'try again later, or raise AWS_MAX_ATTEMPTS' });
  }
  if (name === 'TimeoutError' || /ECONNREFUSED|ENOTFOUND|EAI_AGAIN|ETIMEDOUT|ECONNRESET/.test(`${err.code ?? ''} ${said}`)) {
    return new UserError(`${where}: cannot reach the AWS endpoint (${err.code ?? name}: ${said})`, { hint: 'check the network, the region, and AWS_ENDPOINT_URL_* if set' });
  }
  return new UserError(
    `${where} failed${status ? ` with HTTP ${status}` : ''} (${name})${attempts && attempts > 1 ? ` after ${attempts} attempts` : ''}${said ? `: ${said}` : ''}`,
  );
}

async function call<T>(operation: string, region: string, fn: () => Promise<T>, extra = ''): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    if (e instanceof UserError) throw e;
    throw explainAwsError(e, operation, region, extra);
  }
}

/** The SDK reads AWS_MAX_ATTEMPTS itself; without it, retry throttling a little more than its default 3. */
function retryConfig(): { maxAttempts?: number } {
  return process.env.AWS_MAX_ATTEMPTS ? {} : { maxAttempts: 6 };
}

/** An endpoint override (AWS_ENDPOINT_URL_S3 / AWS_ENDPOINT_URL) is an S3-compatible server: address buckets by path. */
function s3PathStyle(): boolean {
  return !!(process.env.AWS_ENDPOINT_URL_S3 || process.env.AWS_ENDPOINT_URL);
}

export interface Clients {
  lambda(region: string): LambdaClient;
  s3(region: string): S3Client;
}

// The SDK warns on every run that its releases after January 2027 will need Node 22; yumda pins
// the SDK's major version and supports Node 20, so the warning only adds noise to CI logs.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

export const sdkClients: Clients = {
  lambda: (region) => new LambdaClient({ region, ...retryConfig() }),
  s3: (region) => new S3Client({ region, forcePathStyle: s3PathStyle(), ...retryConfig() }),
};

function statementId(principal: string): string {
  return principal === '*' ? 'yumda-public' : `yumda-${principal.replace(/[^A-Za-z0-9_-]/g, '-')}`;
}

/**
 * Publishes one zip in one region: skips when the newest version already has the same content
 * (Lambda's CodeSha256, the base64 SHA-256 of the zip), uploads through S3 when the zip is over the
 * direct-upload limit, and grants the requested principals lambda:GetLayerVersion.
 */
export async function publishInRegion(zip: LayerZipInfo, region: string, opts: PublishOptions, clients: Clients, log: (line: string) => void): Promise<RegionResult> {
  const lambda = clients.lambda(region);
  const target = loadTarget(zip.manifest.target);

  let newest: number | undefined;
  let marker: string | undefined;
  do {
    const page = await call('ListLayerVersions', region, () => lambda.send(new ListLayerVersionsCommand({ LayerName: opts.name, ...(marker ? { Marker: marker } : {}) })));
    for (const v of page.LayerVersions ?? []) if (v.Version !== undefined && (newest === undefined || v.Version > newest)) newest = v.Version;
    marker = page.NextMarker;
  } while (marker);

  let result: RegionResult | undefined;
  if (newest !== undefined) {
    const current = await call('GetLayerVersion', region, () => lambda.send(new GetLayerVersionCommand({ LayerName: opts.name, VersionNumber: newest })));
    if (current.Content?.CodeSha256 === zip.codeSha256) {
      log(`${region}: ${opts.name} version ${newest} already has this content (CodeSha256 ${zip.codeSha256}); not published again`);
      result = {
        region,
        status: 'unchanged',
        version: newest,
        layerArn: current.LayerArn ?? '',
        layerVersionArn: current.LayerVersionArn ?? '',
        codeSha256: zip.codeSha256,
        permissions: [],
      };
    }
  }

  if (!result) {
    const upload = uploadPlan(zip, region, opts);
    let content: LayerVersionContentInput;
    if (upload.via === 's3') {
      const { bucket, key } = upload;
      log(`${region}: uploading ${formatBytes(zip.bytes)} to s3://${bucket}/${key}`);
      const s3 = clients.s3(region);
      const body = readFileSync(zip.file);
      await call(
        'PutObject',
        region,
        () => s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body, ContentLength: body.length, ContentType: 'application/zip' })),
        ` on s3://${bucket}/${key}`,
      );
      content = { S3Bucket: bucket, S3Key: key };
    } else {
      content = { ZipFile: readFileSync(zip.file) };
    }
    const compatible = runtimesToday(target, opts.today);
    if (compatible.leftOut.length) {
      log(
        `${region}: compatible runtimes named: ${compatible.runtimes.join(', ')}; left out (no longer updatable, or past Lambda's ${MAX_COMPATIBLE_RUNTIMES}, first to be deprecated): ${compatible.leftOut.join(', ')}`,
      );
    }
    const published = await call('PublishLayerVersion', region, () =>
      lambda.send(
        new PublishLayerVersionCommand({
          LayerName: opts.name,
          Description: opts.description ?? defaultDescription(zip),
          Content: content,
          CompatibleArchitectures: [zip.manifest.arch as Architecture],
          ...(compatible.runtimes.length ? { CompatibleRuntimes: compatible.runtimes as LambdaRuntime[] } : {}),
          ...(opts.licenseInfo ? { LicenseInfo: opts.licenseInfo } : {}),
        }),
      ),
    );
    if (published.Content?.CodeSha256 && published.Content.CodeSha256 !== zip.codeSha256) {
      throw new UserError(`${region}: Lambda stored ${opts.name} version ${published.Version} with CodeSha256 ${published.Content.CodeSha256}, but the zip's is ${zip.codeSha256}`);
    }
    log(`${region}: published ${opts.name} version ${published.Version} (${published.LayerVersionArn})`);
    result = {
      region,
      status: 'published',
      version: published.Version!,
      layerArn: published.LayerArn ?? '',
      layerVersionArn: published.LayerVersionArn ?? '',
      codeSha256: zip.codeSha256,
      upload,
      permissions: [],
    };
  }

  for (const principal of opts.principals) {
    const sid = statementId(principal);
    let status: 'granted' | 'already granted' = 'granted';
    try {
      await lambda.send(
        new AddLayerVersionPermissionCommand({ LayerName: opts.name, VersionNumber: result.version, StatementId: sid, Action: 'lambda:GetLayerVersion', Principal: principal }),
      );
    } catch (e) {
      // the same statement on an unchanged version: granted by an earlier publish
      if ((e as AwsError).name === 'ResourceConflictException') status = 'already granted';
      else throw explainAwsError(e, 'AddLayerVersionPermission', region);
    }
    log(`${region}: ${principal === '*' ? 'every AWS account' : `account ${principal}`} may use version ${result.version} (${status})`);
    result.permissions.push({ principal, statementId: sid, status });
  }
  return result;
}
