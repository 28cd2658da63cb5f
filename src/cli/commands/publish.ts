import path from 'node:path';
import { gateLayer, madeElsewhereGateInput } from '../../check/gate.js';
import { withLayerContents } from '../../layer/open.js';
import { readLayerZip } from '../../publish/layer-zip.js';
import { publishInRegion, sdkClients, type RegionResult } from '../../publish/publish.js';
import { UserError } from '../../util/errors.js';
import { Reporter, outputMode } from '../ui.js';

export interface PublishCliOptions {
  name: string;
  region: string[];
  s3Bucket?: string;
  s3Prefix: string;
  public?: boolean;
  principal: string[];
  description?: string;
  licenseInfo?: string;
  json?: boolean;
  quiet?: boolean;
  allowMissing?: boolean;
  runtimeManifest?: string;
}

const LAYER_NAME = /^[a-zA-Z0-9_-]{1,140}$/;
const REGION = /^[a-z]{2}(-[a-z]+)+-\d+$/;
const PRINCIPAL = /^(\*|\d{12}|arn:aws[a-z-]*:iam::\d{12}:root)$/;

/** `yumda publish`: one Lambda layer version per region, unless the newest one has the same content. */
export async function publishCommand(zipArg: string, opts: PublishCliOptions): Promise<void> {
  if (!LAYER_NAME.test(opts.name)) throw new UserError(`--name '${opts.name}' is not a Lambda layer name (letters, digits, - and _, at most 140)`);
  const regions = [...new Set(opts.region)];
  const bad = regions.find((r) => !REGION.test(r));
  if (bad) throw new UserError(`--region '${bad}' is not an AWS region name (like us-east-1)`);
  if (opts.public && opts.principal.length) throw new UserError('--public and --principal exclude each other: --public already lets every account use the layer');
  const badPrincipal = opts.principal.find((p) => !PRINCIPAL.test(p));
  if (badPrincipal) throw new UserError(`--principal '${badPrincipal}' is not an AWS account ID (12 digits), an account root ARN, or *`);
  const ui = new Reporter(outputMode(opts));
  const file = path.resolve(zipArg);
  const zip = await readLayerZip(file);
  // what publish uploads passes the same gate as every layer yumda writes
  await withLayerContents(file, async (layer, tree) => {
    gateLayer(madeElsewhereGateInput(tree, layer.manifest, opts.runtimeManifest), { allowMissing: !!opts.allowMissing, force: false, limit: 'layer' }, (w) => ui.warn(w));
  });

  const results: RegionResult[] = [];
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
          principals: opts.public ? ['*'] : opts.principal,
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
