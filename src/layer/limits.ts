import { formatBytes } from '../util/format.js';
import { UserError } from '../util/errors.js';
import { printable } from '../util/printable.js';
import { LAMBDA_IMAGE_LIMIT, LAMBDA_UNZIPPED_LIMIT } from '../format/lambda.js';

/**
 * How far a reader goes into an archive someone hands us before refusing it. The byte limits are
 * Lambda's own: a zip layer that unpacks past LAMBDA_UNZIPPED_LIMIT cannot be deployed, an image past
 * 10 GB cannot be run, so reading further only lets a zip bomb fill the disk and burn CPU.
 */
export const READ_LIMITS = {
  zip: { bytes: LAMBDA_UNZIPPED_LIMIT, what: "Lambda's limit for a function and its layers, unzipped" },
  image: { bytes: LAMBDA_IMAGE_LIMIT, what: "Lambda's limit for a container image" },
  /** Real layers hold thousands of entries; the largest seen hold tens of thousands. Each costs memory. */
  entries: 200_000,
  /** The layer manifest is kept in memory: a few hundred bytes per package. */
  manifestBytes: 8 * 1024 * 1024,
  /** Image metadata (manifest.json, index.json, an OCI manifest, a config) is read into memory. */
  metadataBytes: 4 * 1024 * 1024,
  /** Linux: NAME_MAX is 255 bytes per component, PATH_MAX 4096 bytes with the final NUL. */
  nameComponentBytes: 255,
  pathBytes: 4095,
} as const;

/**
 * Counts what an archive unpacks to, across all its entries, and refuses it one line at the
 * moment it passes the limit or the entry count (before the bytes are read when the archive
 * declares its sizes, as zips and tars do).
 */
export class UnpackBudget {
  bytes = 0;
  entries = 0;
  constructor(
    readonly file: string,
    readonly limit: { bytes: number; what: string },
  ) {}

  entry(name: string): void {
    if (++this.entries > READ_LIMITS.entries) {
      throw new UserError(`${this.file}: more than ${READ_LIMITS.entries} entries (at '${printable(name)}'); refusing to read further`, {
        hint: 'a Lambda layer this size cannot be real; check where the archive came from',
      });
    }
  }

  /** `n` more bytes of entry `name` (declared or read). */
  add(n: number, name: string): void {
    this.bytes += n;
    if (this.bytes > this.limit.bytes) {
      throw new UserError(
        `${this.file}: unpacks to more than ${formatBytes(this.limit.bytes)} (${this.limit.bytes} bytes, ${this.limit.what}) at entry '${printable(name)}'; refusing to read further`,
      );
    }
  }

  /** Whether `n` more bytes would pass the limit, without counting them. */
  check(n: number, name: string): void {
    if (this.bytes + n > this.limit.bytes) {
      throw new UserError(
        `${this.file}: entry '${printable(name)}' says it unpacks to ${n} bytes, past ${formatBytes(this.limit.bytes)} (${this.limit.bytes} bytes, ${this.limit.what}) with the entries before it; refusing to read it`,
      );
    }
  }
}
