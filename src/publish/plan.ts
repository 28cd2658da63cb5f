import { publishableRuntimes } from '../registry/lambda-runtimes.js';
import type { Target } from '../registry/types.js';
import { UserError } from '../util/errors.js';
import { formatBytes } from '../util/format.js';
import type { LayerZipInfo } from './layer-zip.js';
import { LAMBDA_DIRECT_UPLOAD_LIMIT } from '../format/lambda.js';

/**
 * What publishing a zip in a region sends, decided before any AWS call (so --dry-run says exactly
 * what a publish would do, and this module loads no SDK).
 */
export type UploadPlan = { via: 'direct' } | { via: 's3'; bucket: string; key: string };

/** Direct upload up to Lambda's 50 MB, else through the region's --s3-bucket; without one, the one line that says so. */
export function uploadPlan(zip: LayerZipInfo, region: string, opts: { name: string; s3Bucket?: string; s3Prefix: string }): UploadPlan {
  if (zip.bytes <= LAMBDA_DIRECT_UPLOAD_LIMIT) return { via: 'direct' };
  if (!opts.s3Bucket) {
    throw new UserError(`${zip.file} is ${formatBytes(zip.bytes)} zipped, over Lambda's 50 MB limit for a direct upload`, {
      hint: "pass --s3-bucket BUCKET (in the layer's region; {region} in the name is replaced) to upload it through S3",
    });
  }
  return { via: 's3', bucket: opts.s3Bucket.replace(/\{region\}/g, region), key: `${opts.s3Prefix}${opts.name}/${zip.sha256Hex}.zip` };
}

export function defaultDescription(zip: LayerZipInfo): string {
  const m = zip.manifest;
  const requested = m.requested.map((r) => {
    const name = r.replace(/=.*$/, '');
    const p = m.packages.find((x) => x.name === name);
    return p ? `${name} ${p.version}` : r;
  });
  const text = `${requested.join(', ')} for ${m.target} ${m.arch} (yumda)`;
  return text.length > 256 ? text.slice(0, 255) + '…' : text;
}

/** The runtimes a layer version of this target names today (publishableRuntimes). */
export function runtimesToday(target: Target, today = new Date().toISOString().slice(0, 10)): { runtimes: string[]; leftOut: string[] } {
  return publishableRuntimes(target, today);
}

/**
 * The warning for a target no Lambda runtime can use (Debian's: its layers are for container
 * images), else undefined: a layer version that names no runtime is still published, but a
 * function on a managed runtime would find the wrong C library under it.
 */
export function noRuntimeWarning(target: Target): string | undefined {
  if (target.compatibleRuntimes.length) return undefined;
  return `target ${target.id} has no compatible Lambda runtime: its layers are for container images (${target.runtime}); the layer version names no runtime`;
}
