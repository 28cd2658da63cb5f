import { UserError } from './errors.js';

/**
 * All of a stream in memory, for what is small by nature (a layer manifest, image metadata, a
 * generated tar). Past `limit` bytes it stops reading and throws `tooLarge()` (by default a
 * UserError naming `what`): a hostile archive must not be able to make us buffer gigabytes.
 */
export async function readStream(stream: AsyncIterable<unknown>, opts: { limit?: number; what?: string; tooLarge?: () => Error } = {}): Promise<Buffer> {
  const limit = opts.limit ?? Infinity;
  const chunks: Buffer[] = [];
  let n = 0;
  for await (const c of stream) {
    const b = typeof c === 'string' ? Buffer.from(c) : (c as Buffer);
    n += b.length;
    if (n > limit) {
      (stream as { destroy?: () => void }).destroy?.();
      throw opts.tooLarge?.() ?? new UserError(`${opts.what ?? 'the input'} is larger than ${limit} bytes (refusing to read it into memory)`);
    }
    chunks.push(b);
  }
  return Buffer.concat(chunks);
}
