import type { Command } from '@commander-js/extra-typings';
import path from 'node:path';
import { Diagnostics } from '../../util/diagnostics.js';
import { gateLayer, madeElsewhereGateInput } from '../../check/gate.js';
import { withLayerContents } from '../../layer/open.js';
import { readLayerZip, type LayerZipInfo } from '../../publish/layer-zip.js';
import { defaultDescription, noRuntimeWarning, runtimesToday, uploadPlan } from '../../publish/plan.js';
import type { RegionChoice } from '../../publish/region.js';
import { loadTarget } from '../../registry/load.js';
import { UserError } from '../../util/errors.js';
import { formatBytes } from '../../util/format.js';
import { Reporter, outputMode } from '../ui.js';
import { collect, type OptionsOf } from '../options.js';

function declarePublish(program: Command) {
  return program
    .command('publish')
    .description(
      'Publish a layer zip as a Lambda layer version in each region (AWS SDK, standard credential chain). ' +
        'Skips a region whose newest version has the same content. Zips over 50 MB go through S3.',
    )
    .argument('<zip>', 'the layer zip (from yumda install or yumda build)')
    .requiredOption('-n, --name <layer>', 'Lambda layer name')
    .option('-r, --region <region>', "AWS region (repeatable; default: AWS_REGION, AWS_DEFAULT_REGION, else the AWS profile's region)", collect, [])
    .option('--s3-bucket <bucket>', 'bucket for zips over 50 MB, in the same region as the layer; {region} is replaced')
    .option('--s3-prefix <prefix>', 'key prefix in the bucket', 'yumda/')
    .option('--public', 'let every AWS account use the layer version')
    .option('--principal <id>', 'let this AWS account (or * ) use the layer version (repeatable)', collect, [])
    .option('--description <text>', 'layer version description (default: the packages and target)')
    .option('--license-info <spdx>', 'layer version license field')
    .option('--allow-missing', 'publish even when a shipped binary needs a library neither the layer nor its runtime has')
    .option('--runtime-manifest <file>', "check the layer's libraries against this runtime manifest instead of the one its manifest names")
    .option('--dry-run', 'say what would be published (layer, regions, zip size and SHA-256, runtimes); call no AWS API')
    .option('--json', 'print the layer version ARNs as JSON on stdout')
    .option('-q, --quiet', 'print nothing but errors')
    .addHelpText(
      'after',
      '\nEndpoints: the SDK honours AWS_ENDPOINT_URL, AWS_ENDPOINT_URL_LAMBDA and AWS_ENDPOINT_URL_S3.\n' +
        'Examples:\n  yumda publish poppler.zip --name poppler --region us-east-1 --region eu-west-1\n' +
        '  yumda publish big.zip --name big --region us-east-1 --s3-bucket my-layers-{region} --public --json\n',
    );
}

export type PublishOptions = OptionsOf<ReturnType<typeof declarePublish>>;

export function registerPublish(program: Command): void {
  declarePublish(program).action((zip, opts) => publishCommand(zip, opts));
}

const LAYER_NAME = /^[a-zA-Z0-9_-]{1,140}$/;
const REGION = /^[a-z]{2}(-[a-z]+)+-\d+$/;
const PRINCIPAL = /^(\*|\d{12}|arn:aws[a-z-]*:iam::\d{12}:root)$/;

/** `yumda publish`: one Lambda layer version per region, unless the newest one has the same content. */
export async function publishCommand(zipArg: string, opts: PublishOptions): Promise<void> {
  if (!LAYER_NAME.test(opts.name)) throw new UserError(`--name '${opts.name}' is not a Lambda layer name (letters, digits, - and _, at most 140)`);
  // the AWS SDK (the profile's region is read with @smithy's config loader) loads only for this
  // command, once it runs: it would double every other command's start-up time
  const { publishRegions } = await import('../../publish/region.js');
  const choice = await publishRegions(opts.region);
  const regions = choice.regions;
  const bad = regions.find((r) => !REGION.test(r));
  if (bad) throw new UserError(`${choice.source === '--region' ? '--region' : `the region from ${choice.source}`} '${bad}' is not an AWS region name (like us-east-1)`);
  if (opts.public && opts.principal.length) throw new UserError('--public and --principal exclude each other: --public already lets every account use the layer');
  const badPrincipal = opts.principal.find((p) => !PRINCIPAL.test(p));
  if (badPrincipal) throw new UserError(`--principal '${badPrincipal}' is not an AWS account ID (12 digits), an account root ARN, or *`);
  const ui = new Reporter(outputMode(opts));
  const file = path.resolve(zipArg);
  const zip = await readLayerZip(file);
  // what publish uploads passes the same gate as every layer yumda writes
  await withLayerContents(file, async (layer, tree) => {
    const diagnostics = new Diagnostics((w) => ui.warn(w));
    gateLayer(madeElsewhereGateInput(tree, layer.manifest, opts.runtimeManifest, diagnostics), { allowMissing: !!opts.allowMissing, force: false, limit: 'layer' }, diagnostics);
  });
  const noRuntime = noRuntimeWarning(loadTarget(zip.manifest.target));
  if (noRuntime) ui.warn(noRuntime);

  const principals = opts.public ? ['*'] : opts.principal;
  if (opts.dryRun) return dryRun(zip, choice, { ...opts, principals }, ui);

  // the AWS SDK loads only when something is published
  const { publishInRegion, sdkClients } = await import('../../publish/publish.js');
  const results = [];
  for (const region of regions) {
    results.push(
      await publishInRegion(
        zip,
        region,
        {
          name: opts.name,
          regions,
          ...(opts.s3Bucket ? { s3Bucket: opts.s3Bucket } : {}),
          s3Prefix: opts.s3Prefix,
          principals,
          ...(opts.description ? { description: opts.description } : {}),
          ...(opts.licenseInfo ? { licenseInfo: opts.licenseInfo } : {}),
        },
        sdkClients,
        (line) => (opts.json ? ui.detail(line) : ui.info(line)),
      ),
    );
  }
  ui.done();
  if (opts.json) {
    process.stdout.write(JSON.stringify({ layer: opts.name, zip: zip.file, codeSha256: zip.codeSha256, regions: results }, null, 2) + '\n');
  }
}

/** What publish would do, from the zip and the options alone: no AWS call, no credentials needed. */
function dryRun(zip: LayerZipInfo, choice: RegionChoice, opts: PublishOptions & { principals: string[] }, ui: Reporter): void {
  const target = loadTarget(zip.manifest.target);
  const { runtimes, leftOut } = runtimesToday(target);
  const uploads = choice.regions.map((region) => ({ region, upload: uploadPlan(zip, region, opts) }));
  const description = opts.description ?? defaultDescription(zip);
  if (opts.json) {
    const doc = {
      dryRun: true,
      layer: opts.name,
      zip: zip.file,
      bytes: zip.bytes,
      sha256: zip.sha256Hex,
      codeSha256: zip.codeSha256,
      regionSource: choice.source,
      regions: uploads,
      target: target.id,
      architectures: [zip.manifest.arch],
      compatibleRuntimes: runtimes,
      description,
      principals: opts.principals,
    };
    process.stdout.write(JSON.stringify(doc, null, 2) + '\n');
    return;
  }
  const via = (u: (typeof uploads)[number]['upload']) => (u.via === 'direct' ? 'direct upload' : `through s3://${u.bucket}/${u.key}`);
  ui.info(
    [
      `Would publish ${zip.file} as layer ${opts.name} (dry run: no AWS call made)`,
      ...uploads.map((u) => `  region:      ${u.region} (from ${choice.source}; ${via(u.upload)})`),
      `  zip:         ${formatBytes(zip.bytes)}, sha256 ${zip.sha256Hex}`,
      `  target:      ${target.id} ${zip.manifest.arch}`,
      `  runtimes:    ${runtimes.length ? runtimes.join(', ') : 'none'}${leftOut.length ? ` (left out: ${leftOut.join(', ')})` : ''}`,
      `  description: ${description}`,
      ...(opts.principals.length ? [`  usable by:   ${opts.principals.map((p) => (p === '*' ? 'every AWS account' : p)).join(', ')}`] : []),
    ].join('\n'),
  );
}
