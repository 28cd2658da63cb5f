import { describe, expect, it } from 'vitest';
import { packNotNeeded } from '../../src/format/packed.js';
import { LAMBDA_UNZIPPED_LIMIT } from '../../src/format/lambda.js';

describe('--pack on a layer far below the limit says packing is not needed', () => {
  const MiB = 1024 * 1024;
  it.each([
    [2 * MiB, "note: packing is not needed: the tree is 2.0 MiB (0.8% of Lambda's 250 MB limit) and fits unpacked, with no unpack on the first call and no /tmp to size"],
    [LAMBDA_UNZIPPED_LIMIT / 2 - 1, expect.stringMatching(/^note: packing is not needed: the tree is 125\.0 MiB \(50\.0% of/)],
    [LAMBDA_UNZIPPED_LIMIT / 2, undefined],
    [400 * MiB, undefined],
  ])('%i bytes', (treeBytes, want) => {
    expect(packNotNeeded({ treeBytes })).toEqual(want);
  });
});
