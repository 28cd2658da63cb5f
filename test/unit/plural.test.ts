import { describe, expect, it } from 'vitest';
import { noun, plural } from '../../src/util/plural.js';

describe('plural', () => {
  it.each([
    [0, 'package', undefined, '0 packages'],
    [1, 'package', undefined, '1 package'],
    [2, 'file', undefined, '2 files'],
    [1, 'library', undefined, '1 library'],
    [3, 'library', undefined, '3 libraries'],
    [2, 'directory', undefined, '2 directories'],
    [2, 'key', undefined, '2 keys'],
    [2, 'binary', undefined, '2 binaries'],
    [2, 'match', undefined, '2 matches'],
    [1, 'file or link', 'files and links', '1 file or link'],
    [5, 'file or link', 'files and links', '5 files and links'],
  ] as const)('%i %s', (n, one, many, want) => {
    expect(plural(n, one, many)).toBe(want);
  });
  it('noun alone, for a column', () => {
    expect(noun(1, 'file')).toBe('file');
    expect(noun(7, 'file')).toBe('files');
  });
});
