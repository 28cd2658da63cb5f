import { MIB } from '../pack/packed-layer.js';
import type { FileLimit } from './extract.js';
import { EPHEMERAL_STORAGE_MAX_MB, LAMBDA_IMAGE_LIMIT, LAMBDA_UNZIPPED_LIMIT } from '../format/lambda.js';

/** What a build writes, as far as the size of one file goes. */
export type StagedOutput = 'layer' | 'pack' | 'image';

/**
 * The largest file a package may bring into staging: the largest any output of the build could
 * ever ship. Staging streams every file to disk, so the limit is not about memory but about not
 * writing gigabytes nothing can use (a 576-byte package can hold a 20 GB sparse file):
 * - a layer (a zip or a directory) counts against Lambda's LAMBDA_UNZIPPED_LIMIT (250 MB) unzipped, function and
 *   all layers together, so one file past it can never be deployed, --force or not;
 * - a packed layer unpacks its tree into /tmp, which Lambda makes at most 10240 MB;
 * - a container image is at most 10 GB, all of it.
 */
export function stagedFileLimit(output: StagedOutput): FileLimit {
  switch (output) {
    case 'layer':
      return {
        bytes: LAMBDA_UNZIPPED_LIMIT,
        what: `a layer can hold (${LAMBDA_UNZIPPED_LIMIT} bytes, Lambda's limit for a function and its layers, unzipped)`,
        hint: 'a packed layer (--pack) or a container image (yumda image) can hold files up to 10 GiB',
      };
    case 'pack':
      return {
        bytes: EPHEMERAL_STORAGE_MAX_MB * MIB,
        what: `a packed layer can unpack (${EPHEMERAL_STORAGE_MAX_MB * MIB} bytes, the most ephemeral storage Lambda gives /tmp)`,
      };
    case 'image':
      return { bytes: LAMBDA_IMAGE_LIMIT, what: `a container image can hold (${LAMBDA_IMAGE_LIMIT} bytes, Lambda's limit for a container image)` };
  }
}
