/** Lambda's limits that a layer is measured against (AWS Lambda quotas). */
export const LAMBDA_UNZIPPED_LIMIT = 262_144_000; // function + all layers, unzipped ("250 MB")
export const LAMBDA_DIRECT_UPLOAD_LIMIT = 50 * 1024 * 1024; // zipped, PublishLayerVersion without S3
export const LAMBDA_IMAGE_LIMIT = 10 * 1024 * 1024 * 1024; // a container image, all of it
