/**
 * Lambda's facts that a layer is placed by and measured against (AWS Lambda's quotas and execution
 * environment), and where yumda keeps its own files in a layer. The one place each is written:
 * this module imports nothing, and everything that needs one of them imports it from here.
 */

/** Where Lambda unpacks a function's layers, read-only. */
export const LAYER_ROOT = '/opt';

/** A function and all its layers, unzipped ("250 MB"). */
export const LAMBDA_UNZIPPED_LIMIT = 262144000;
/** A layer zip PublishLayerVersion takes directly, without S3. */
export const LAMBDA_DIRECT_UPLOAD_LIMIT = 50 * 1024 * 1024;
/** A container image, all of it. */
export const LAMBDA_IMAGE_LIMIT = 10 * 1024 * 1024 * 1024;

/** Lambda's ephemeral storage (/tmp): 512 MB unless configured, at most 10240 MB (Lambda's MB are MiB). */
export const EPHEMERAL_STORAGE_DEFAULT_MB = 512;
export const EPHEMERAL_STORAGE_MAX_MB = 10240;

/** The unprivileged user and group a function runs as, uid:gid. */
export const LAMBDA_USER = '993:990';

/** yumda's own files in a layer: its manifest, SBOM, environment and exec wrapper. */
export const META_DIR = `${LAYER_ROOT}/.yumda`;
/** The environment the layer's libraries need, as NAME=value lines. */
export const ENV_PATH = `${META_DIR}/env`;
/** For a function's AWS_LAMBDA_EXEC_WRAPPER: sets that environment (and unpacks a packed layer) before the runtime starts. */
export const EXEC_WRAPPER_PATH = '/opt/.yumda/exec-wrapper'; // written out whole: the path users grep for
