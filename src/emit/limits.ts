import { UserError } from '../util/errors.js';

/** Lambda's limits that a layer is measured against (AWS Lambda quotas). */
export const LAMBDA_UNZIPPED_LIMIT = 262_144_000; // function + all layers, unzipped ("250 MB")
export const LAMBDA_DIRECT_UPLOAD_LIMIT = 50 * 1024 * 1024; // zipped, PublishLayerVersion without S3

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / 1024 / 1024).toFixed(1)} MiB`;
}

/** Refuses a layer over Lambda's unzipped limit, unless forced (container images have no such limit). */
export function checkUnzippedLimit(unzippedBytes: number, force: boolean): void {
  if (unzippedBytes > LAMBDA_UNZIPPED_LIMIT && !force) {
    throw new UserError(
      `the layer is ${formatBytes(unzippedBytes)} unzipped, over Lambda's limit of ${LAMBDA_UNZIPPED_LIMIT} bytes for a function and all its layers; nothing written`,
      { hint: 'drop packages, or pass --force to write it anyway (for container images)' },
    );
  }
}
