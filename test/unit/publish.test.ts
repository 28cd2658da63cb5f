import { createHash, randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Sha256 } from '@smithy/core/checksum';
import { SignatureV4 } from '@smithy/signature-v4';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeLayerZip } from '../../src/emit/zip.js';
import { file, treeOf } from '../helpers/tree.js';
import { chooseRegions } from '../../src/publish/region.js';
import { fakeAwsEnv, startFakeAws, verifySigV4, type FakeAws } from '../helpers/aws.js';
import { tempDir } from '../helpers/tmp.js';
import { runYumda } from '../helpers/cli.js';

const creds = { accessKeyId: 'AKIDYUMDATEST00000001', secretAccessKey: 'yumda/test/secret+key/0123456789abcdefghij' };

/** A small layer zip as yumda writes it: files under /opt and the layer manifest that names target and arch. */
async function layerZip(dir: string, name: string, payload: Buffer | string, arch = 'x86_64', mode = 0o755, target = 'debian12'): Promise<string> {
  const manifest = {
    manifestVersion: 1,
    tool: { name: 'yumda', version: '0.1.0' },
    target,
    arch,
    runtime: target === 'debian12' ? 'debian12' : `provided.${target}`,
    requested: ['jq'],
    packages: [{ name: 'jq', version: '1.6-2.1+deb12u3', arch: 'amd64', sourcePackage: 'jq', requiredBy: ['jq'], files: 1, bytes: 1 }],
    generatedBytes: 0,
    env: {},
    recipes: [],
  };
  const out = path.join(dir, name);
  await writeLayerZip(treeOf([file('/opt/.yumda/manifest.json', JSON.stringify(manifest)), file('/opt/bin/payload', payload, mode)]), out);
  return out;
}

const sha256b64 = (f: string) => createHash('sha256').update(readFileSync(f)).digest('base64');

describe('SigV4 verification in the fake AWS (checked against the SDK signer)', () => {
  const request = {
    method: 'POST',
    protocol: 'http:',
    hostname: '127.0.0.1',
    port: 4566,
    path: '/2018-10-31/layers/a%3Ab/versions',
    query: { MaxItems: '5', Marker: 'x y' },
    headers: { host: '127.0.0.1:4566', 'content-type': 'application/json' },
    body: '{"a":1}',
  };
  const wire = (signed: { headers: Record<string, string> }) => ({
    method: 'POST',
    url: '/2018-10-31/layers/a%3Ab/versions?MaxItems=5&Marker=x%20y',
    rawHeaders: Object.entries(signed.headers).flat(),
    body: Buffer.from('{"a":1}'),
  });
  const signer = (secret: string) =>
    new SignatureV4({ service: 'lambda', region: 'eu-west-1', credentials: { accessKeyId: creds.accessKeyId, secretAccessKey: secret }, sha256: Sha256 });

  it('accepts a request signed with the right secret', async () => {
    const signed = (await signer(creds.secretAccessKey).sign({ ...request } as never)) as unknown as { headers: Record<string, string> };
    expect(verifySigV4(wire(signed), creds)).toMatchObject({ ok: true, region: 'eu-west-1', service: 'lambda' });
  });

  it('rejects a wrong secret, a changed body, a changed path, and an old date', async () => {
    const bad = (await signer('not-the-secret').sign({ ...request } as never)) as unknown as { headers: Record<string, string> };
    expect(verifySigV4(wire(bad), creds)).toMatchObject({ ok: false, code: 'SignatureDoesNotMatch' });
    const good = (await signer(creds.secretAccessKey).sign({ ...request } as never)) as unknown as { headers: Record<string, string> };
    // the signed x-amz-content-sha256 no longer matches the body
    expect(verifySigV4({ ...wire(good), body: Buffer.from('{"a":2}') }, creds)).toMatchObject({ ok: false, code: 'ContentSha256Mismatch' });
    expect(verifySigV4({ ...wire(good), url: '/2018-10-31/layers/a%3Ac/versions?MaxItems=5&Marker=x%20y' }, creds)).toMatchObject({ ok: false, code: 'SignatureDoesNotMatch' });
    expect(verifySigV4(wire(good), creds, Date.now() + 60 * 60 * 1000)).toMatchObject({ ok: false, code: 'RequestExpired' });
    expect(verifySigV4(wire(good), { ...creds, accessKeyId: 'AKIDOTHER' })).toMatchObject({ ok: false, code: 'UnrecognizedClient' });
  });
});

describe('yumda publish against a loopback Lambda and S3', () => {
  let aws: FakeAws;
  let env: Record<string, string | undefined>;
  const dir = tempDir('yumda-publish-');
  let zipA: string;
  let zipB: string;

  beforeAll(async () => {
    aws = await startFakeAws(creds);
    env = fakeAwsEnv(aws, creds);
    zipA = await layerZip(dir, 'a.zip', 'first build\n');
    zipB = await layerZip(dir, 'b.zip', 'second build\n');
  });
  afterAll(async () => {
    await aws.close();
  });

  const publish = (args: string[], extraEnv: Record<string, string | undefined> = {}) => runYumda(['publish', ...args], { env: { ...env, ...extraEnv }, cwd: dir });
  const opsSince = (n: number) => aws.calls.slice(n).map((c) => `${c.op}:${c.status}`);
  // these zips are debian12's, which no Lambda runtime takes: every publish warns so (tested below)
  const errorLines = (r: { stderr: string }) =>
    r.stderr
      .trim()
      .split('\n')
      .filter((l) => !l.startsWith('warning: target debian12 has no compatible Lambda runtime'));

  it('creates version 1, then skips the same zip, then creates version 2 for a changed zip', async () => {
    const first = await publish([zipA, '--name', 'jq', '--region', 'us-east-1', '--json']);
    expect(first.stderr).not.toMatch(/error/);
    expect(first.stderr.match(/warning: target debian12 has no compatible Lambda runtime/g)).toHaveLength(1);
    expect(first.code).toBe(0);
    const doc = JSON.parse(first.stdout) as { codeSha256: string; regions: Array<{ status: string; version: number; layerVersionArn: string; upload: { via: string } }> };
    expect(doc.codeSha256).toBe(sha256b64(zipA));
    expect(doc.regions).toEqual([
      expect.objectContaining({ status: 'published', version: 1, layerVersionArn: 'arn:aws:lambda:us-east-1:123456789012:layer:jq:1', upload: { via: 'direct' } }),
    ]);
    const stored = aws.layers.get('us-east-1')!.get('jq')![0]!;
    expect(stored.codeSha256).toBe(sha256b64(zipA));
    // from the target and the layer's architecture (debian12 has no Lambda runtime of its own)
    expect(stored.compatibleArchitectures).toEqual(['x86_64']);
    expect(stored.compatibleRuntimes).toBeUndefined();
    expect(stored.description).toBe('jq 1.6-2.1+deb12u3 for debian12 x86_64 (yumda)');

    const n = aws.calls.length;
    const again = await publish([zipA, '--name', 'jq', '--region', 'us-east-1']);
    expect(again.code).toBe(0);
    expect(again.stdout).toContain(`us-east-1: jq version 1 already has this content (CodeSha256 ${sha256b64(zipA)}); not published again`);
    expect(opsSince(n)).toEqual(['ListLayerVersions:200', 'GetLayerVersion:200']);

    const changed = await publish([zipB, '--name', 'jq', '--region', 'us-east-1', '--json']);
    expect(changed.code).toBe(0);
    expect(JSON.parse(changed.stdout).regions[0]).toMatchObject({ status: 'published', version: 2, layerVersionArn: 'arn:aws:lambda:us-east-1:123456789012:layer:jq:2' });
    expect(
      aws.layers
        .get('us-east-1')!
        .get('jq')!
        .map((v) => v.version),
    ).toEqual([1, 2]);
  });

  it("names the target's Lambda runtimes, at most the 15 Lambda takes, the longest supported first", async () => {
    const zip = await layerZip(dir, 'al2023.zip', 'al2023 build\n', 'x86_64', 0o755, 'al2023');
    const r = await publish([zip, '--name', 'al2023-layer', '--region', 'us-east-1']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const stored = aws.layers.get('us-east-1')!.get('al2023-layer')![0]!.compatibleRuntimes!;
    expect(stored.length).toBe(15);
    // today's runtimes are named; nodejs20.x (deprecated 2026-04-30) is among the first to go
    expect(stored).toEqual(expect.arrayContaining(['provided.al2023', 'nodejs24.x', 'python3.14', 'java25', 'dotnet10', 'ruby3.4', 'java21']));
    expect(stored).not.toContain('nodejs20.x');
    expect(r.stdout).toMatch(/us-east-1: compatible runtimes named: provided\.al2023, .*; left out \(.*\): .*nodejs20\.x/);
  });

  it('publishes in every --region and grants --public (again on an unchanged version: already granted)', async () => {
    const r = await publish([zipA, '--name', 'jq-multi', '--region', 'us-east-1', '--region', 'eu-west-1', '--public', '--json']);
    expect(r.stderr).not.toMatch(/error/);
    const doc = JSON.parse(r.stdout) as { regions: Array<{ region: string; layerVersionArn: string; permissions: Array<{ principal: string; status: string }> }> };
    expect(doc.regions.map((x) => x.layerVersionArn)).toEqual(['arn:aws:lambda:us-east-1:123456789012:layer:jq-multi:1', 'arn:aws:lambda:eu-west-1:123456789012:layer:jq-multi:1']);
    expect(doc.regions.map((x) => x.permissions)).toEqual([
      [{ principal: '*', statementId: 'yumda-public', status: 'granted' }],
      [{ principal: '*', statementId: 'yumda-public', status: 'granted' }],
    ]);
    expect(aws.layers.get('eu-west-1')!.get('jq-multi')![0]!.statements).toEqual([{ Sid: 'yumda-public', Principal: '*', Action: 'lambda:GetLayerVersion' }]);
    const again = await publish([zipA, '--name', 'jq-multi', '--region', 'eu-west-1', '--principal', '210987654321']);
    expect(again.code).toBe(0);
    expect(again.stdout).toContain('eu-west-1: account 210987654321 may use version 1 (granted)');
  });

  it('uploads a 60 MB zip to S3 first and publishes from there', async () => {
    const big = await layerZip(dir, 'big.zip', randomBytes(60 * 1024 * 1024));
    aws.buckets.add('layers-us-east-1');
    const without = await publish([big, '--name', 'big', '--region', 'us-east-1']);
    expect(without.code).toBe(1);
    expect(errorLines(without)).toEqual([expect.stringMatching(/^yumda: error: .*big\.zip is 60\.0 MiB zipped, over Lambda's 50 MB limit for a direct upload; pass --s3-bucket/)]);

    const n = aws.calls.length;
    const r = await publish([big, '--name', 'big', '--region', 'us-east-1', '--s3-bucket', 'layers-{region}', '--json']);
    expect(r.stderr).not.toMatch(/error/);
    expect(r.code).toBe(0);
    const key = `yumda/big/${createHash('sha256').update(readFileSync(big)).digest('hex')}.zip`;
    expect(JSON.parse(r.stdout).regions[0]).toMatchObject({ status: 'published', version: 1, upload: { via: 's3', bucket: 'layers-us-east-1', key } });
    expect(opsSince(n)).toEqual(['ListLayerVersions:200', 'PutObject:200', 'PublishLayerVersion:201']);
    expect(aws.calls.at(-1)).toMatchObject({ content: 'S3' });
    expect(aws.calls.at(-1)!.bytes).toBeLessThan(4096);
    expect(aws.objects.get(`layers-us-east-1/${key}`)!.equals(readFileSync(big))).toBe(true);
    expect(aws.layers.get('us-east-1')!.get('big')![0]!.codeSha256).toBe(sha256b64(big));
  });

  it('retries throttled calls (429) and then succeeds', async () => {
    aws.inject('ListLayerVersions', 429, 1);
    aws.inject('PublishLayerVersion', 429, 2);
    const n = aws.calls.length;
    const r = await publish([zipA, '--name', 'throttled', '--region', 'us-east-1', '--json']);
    expect(r.stderr).not.toMatch(/error/);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).regions[0]).toMatchObject({ status: 'published', version: 1 });
    expect(opsSince(n)).toEqual(['ListLayerVersions:429', 'ListLayerVersions:200', 'PublishLayerVersion:429', 'PublishLayerVersion:429', 'PublishLayerVersion:201']);
  });

  it('gives up on persistent throttling after the configured attempts, in one line', async () => {
    aws.inject('PublishLayerVersion', 429, 2);
    const r = await publish([zipA, '--name', 'throttled-out', '--region', 'us-east-1'], { AWS_MAX_ATTEMPTS: '2' });
    expect(r.code).toBe(1);
    expect(errorLines(r)).toEqual([
      'yumda: error: PublishLayerVersion in us-east-1 was throttled (TooManyRequestsException) and still was after 2 attempts; try again later, or raise AWS_MAX_ATTEMPTS',
    ]);
  });

  it('says which operation and which permission a 403 is about, in one line', async () => {
    aws.inject('PublishLayerVersion', 403, 1);
    const r = await publish([zipA, '--name', 'denied', '--region', 'us-east-1']);
    expect(r.code).toBe(1);
    const lines = errorLines(r);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^yumda: error: PublishLayerVersion in us-east-1 was denied \(AccessDeniedException\): the credentials lack permission lambda:PublishLayerVersion /);
    expect(lines[0]).toContain('is not authorized to perform: lambda:PublishLayerVersion');

    aws.buckets.add('layers-eu-west-1');
    aws.inject('PutObject', 403, 1);
    const big = path.join(dir, 'big.zip');
    const s3 = await publish([big, '--name', 'big-denied', '--region', 'eu-west-1', '--s3-bucket', 'layers-{region}']);
    expect(errorLines(s3)).toEqual([
      expect.stringMatching(
        /^yumda: error: PutObject in eu-west-1 was denied \(AccessDenied\): the credentials lack permission s3:PutObject on s3:\/\/layers-eu-west-1\/yumda\/big-denied\/[0-9a-f]{64}\.zip/,
      ),
    ]);
  });

  it('reports a server error after retrying it', async () => {
    aws.inject('GetLayerVersion', 500, 3);
    const n = aws.calls.length;
    const r = await publish([zipA, '--name', 'jq', '--region', 'us-east-1'], { AWS_MAX_ATTEMPTS: '3' });
    expect(r.code).toBe(1);
    expect(errorLines(r)).toEqual(['yumda: error: GetLayerVersion in us-east-1 failed with HTTP 500 (ServiceException) after 3 attempts: An internal error occurred']);
    expect(opsSince(n)).toEqual(['ListLayerVersions:200', 'GetLayerVersion:500', 'GetLayerVersion:500', 'GetLayerVersion:500']);
  });

  it('refuses a wrong secret key: the fake rejects the signature and yumda says the credentials are not valid', async () => {
    const before = aws.rejected.length;
    const r = await publish([zipA, '--name', 'jq', '--region', 'us-east-1'], { AWS_SECRET_ACCESS_KEY: 'wrong-secret' });
    expect(r.code).toBe(1);
    expect(errorLines(r)).toEqual([
      expect.stringMatching(/^yumda: error: ListLayerVersions in us-east-1 was refused \(InvalidSignatureException\): the AWS credentials are not valid/),
    ]);
    expect(aws.rejected.slice(before).map((x) => x.code)).toEqual(['SignatureDoesNotMatch']);
  });

  it('refuses a zip that is not a yumda layer, and bad arguments, in one line', async () => {
    const notLayer = path.join(dir, 'plain.zip');
    await writeLayerZip(treeOf([file('/opt/bin/x', 'x')]), notLayer);
    const r = await publish([notLayer, '--name', 'x', '--region', 'us-east-1']);
    expect(r.stderr.trim().split('\n')).toEqual([expect.stringMatching(/plain\.zip has no \.yumda\/manifest\.json: not a layer built by yumda/)]);
    // a zip made elsewhere passes the write gate before anything is uploaded (issue 11: one gate)
    const suid = await layerZip(dir, 'suid.zip', 'x', 'x86_64', 0o4755);
    const gated = await publish([suid, '--name', 'x', '--region', 'us-east-1']);
    expect(gated.stderr.trim().split('\n')).toEqual([
      expect.stringMatching(/^yumda: error: the layer carries setuid, setgid or sticky bits \(\/opt\/bin\/payload -rwsr-xr-x\); nothing written/),
    ]);
    expect(gated.code).toBe(1);
    const bad = await publish([zipA, '--name', 'x', '--region', 'moon-1']);
    expect(bad.stderr.trim()).toBe("yumda: error: --region 'moon-1' is not an AWS region name (like us-east-1)");
  });
});

describe('chooseRegions: the AWS CLI order', () => {
  const none = { name: 'default' };
  it.each([
    {
      flags: ['eu-west-1', 'eu-west-1', 'us-east-1'],
      env: { AWS_REGION: 'ap-south-1' },
      profile: { name: 'default', region: 'ca-central-1' },
      want: { regions: ['eu-west-1', 'us-east-1'], source: '--region' },
    },
    { flags: [], env: { AWS_REGION: 'ap-south-1', AWS_DEFAULT_REGION: 'eu-north-1' }, profile: none, want: { regions: ['ap-south-1'], source: 'AWS_REGION' } },
    { flags: [], env: { AWS_REGION: ' ', AWS_DEFAULT_REGION: 'eu-north-1' }, profile: none, want: { regions: ['eu-north-1'], source: 'AWS_DEFAULT_REGION' } },
    { flags: [], env: {}, profile: { name: 'ci', region: 'sa-east-1' }, want: { regions: ['sa-east-1'], source: 'the ci profile' } },
    { flags: [], env: { AWS_DEFAULT_REGION: '' }, profile: none, want: undefined },
  ])('$flags / $env / $profile', ({ flags, env, profile, want }) => {
    expect(chooseRegions(flags, env, profile)).toEqual(want);
  });
});

describe('yumda publish: where the region comes from, and --dry-run', () => {
  const dir = tempDir('yumda-publish-region-');
  // nothing of this machine's AWS setup may leak in: an empty config file, no region variables
  const emptyConfig = path.join(dir, 'empty-config');
  const profileConfig = path.join(dir, 'config');
  const base = {
    AWS_REGION: undefined,
    AWS_DEFAULT_REGION: undefined,
    AWS_PROFILE: undefined,
    AWS_CONFIG_FILE: emptyConfig,
    AWS_SHARED_CREDENTIALS_FILE: path.join(dir, 'no-credentials'),
    AWS_ACCESS_KEY_ID: undefined,
    AWS_SECRET_ACCESS_KEY: undefined,
    // a dry run makes no call: an endpoint that cannot answer proves it
    AWS_ENDPOINT_URL: 'http://127.0.0.1:9',
    AWS_EC2_METADATA_DISABLED: 'true',
  };
  let zip: string;
  beforeAll(async () => {
    writeFileSync(emptyConfig, '');
    writeFileSync(profileConfig, '[default]\nregion = eu-central-1\n[profile ci]\nregion = ap-northeast-2\n');
    zip = await layerZip(dir, 'jq.zip', 'jq build\n');
  });
  const publish = (args: string[], env: Record<string, string | undefined> = {}) => runYumda(['publish', ...args], { env: { ...base, ...env }, cwd: dir });

  it('with no region anywhere, exits non-zero with one line naming the region options', async () => {
    const r = await publish(['jq.zip', '--name', 'jq']);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr.trim().split('\n')).toEqual([
      'yumda: error: no AWS region to publish in: pass --region, AWS_REGION, AWS_DEFAULT_REGION, or a region in the AWS profile (AWS_PROFILE, ~/.aws/config or AWS_CONFIG_FILE)',
    ]);
  });

  it('takes AWS_REGION, then AWS_DEFAULT_REGION, then the profile (AWS_PROFILE), and --region over all', async () => {
    const region = async (env: Record<string, string>, args: string[] = []) => {
      const r = await publish(['jq.zip', '--name', 'jq', '--dry-run', '--json', ...args], env);
      expect(r.code, r.stderr).toBe(0);
      const doc = JSON.parse(r.stdout) as { regionSource: string; regions: Array<{ region: string }> };
      return `${doc.regions.map((x) => x.region).join(',')} from ${doc.regionSource}`;
    };
    expect(await region({ AWS_REGION: 'us-west-2', AWS_DEFAULT_REGION: 'eu-west-1', AWS_CONFIG_FILE: profileConfig })).toBe('us-west-2 from AWS_REGION');
    expect(await region({ AWS_DEFAULT_REGION: 'eu-west-1', AWS_CONFIG_FILE: profileConfig })).toBe('eu-west-1 from AWS_DEFAULT_REGION');
    expect(await region({ AWS_CONFIG_FILE: profileConfig })).toBe('eu-central-1 from the default profile');
    expect(await region({ AWS_CONFIG_FILE: profileConfig, AWS_PROFILE: 'ci' })).toBe('ap-northeast-2 from the ci profile');
    expect(await region({ AWS_REGION: 'us-west-2' }, ['--region', 'eu-west-3', '--region', 'us-east-2'])).toBe('eu-west-3,us-east-2 from --region');
  });

  it('--dry-run says what would be published and calls nothing; a debian12 layer gets the no-runtime warning', async () => {
    const r = await publish(['jq.zip', '--name', 'jq', '--dry-run'], { AWS_REGION: 'us-east-1' });
    expect(r.code).toBe(0);
    const hex = createHash('sha256').update(readFileSync(zip)).digest('hex');
    expect(r.stdout.trim().split('\n')).toEqual([
      `Would publish ${zip} as layer jq (dry run: no AWS call made)`,
      '  region:      us-east-1 (from AWS_REGION; direct upload)',
      expect.stringMatching(new RegExp(`^  zip:         [0-9.]+ (B|KiB), sha256 ${hex}$`)),
      '  target:      debian12 x86_64',
      '  runtimes:    none',
      '  description: jq 1.6-2.1+deb12u3 for debian12 x86_64 (yumda)',
    ]);
    expect(r.stderr.trim().split('\n')).toEqual([
      'warning: target debian12 has no compatible Lambda runtime: its layers are for container images (debian12); the layer version names no runtime',
    ]);

    const al = await layerZip(dir, 'al.zip', 'al2023 build\n', 'arm64', 0o755, 'al2023');
    const j = await publish([al, '--name', 'al', '--dry-run', '--json', '--public'], { AWS_REGION: 'us-east-1' });
    expect(j.stderr).toBe('');
    const doc = JSON.parse(j.stdout);
    expect(doc).toMatchObject({
      dryRun: true,
      layer: 'al',
      target: 'al2023',
      architectures: ['arm64'],
      principals: ['*'],
      regions: [{ region: 'us-east-1', upload: { via: 'direct' } }],
    });
    expect(doc.codeSha256).toBe(sha256b64(al));
    expect(doc.compatibleRuntimes).toContain('provided.al2023');
  });
});
