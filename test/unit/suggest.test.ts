import { describe, expect, it } from 'vitest';
import { loadPackageNames } from '../../src/registry/load.js';
import { otherFamilyName, suggestionsFor, suggestionText } from '../../src/resolve/suggest.js';
import { editDistance, nearestNames } from '../../src/util/nearest.js';

const DEBIAN = ['jq', 'jqp', 'jo', 'curl', 'imagemagick', 'imagemagick-6-common', 'poppler-utils', 'poppler-data', 'libpoppler126', 'ghostscript', 'git', 'gitk', 'zip', 'unzip'];

describe('editDistance (with transpositions)', () => {
  it.each([
    ['jq', 'jq', 0],
    ['jqq', 'jq', 1],
    ['crul', 'curl', 1],
    ['imagemagik', 'imagemagick', 1],
    ['kitten', 'sitting', 3],
    ['', 'abc', 3],
  ])('%s → %s = %i', (a, b, d) => {
    expect(editDistance(a, b)).toBe(d);
    expect(editDistance(b, a)).toBe(d);
  });
  it('stops past the limit', () => {
    expect(editDistance('kitten', 'sitting', 1)).toBe(2);
    expect(editDistance('a', 'abcdef', 2)).toBe(3);
  });
});

describe('nearestNames', () => {
  it.each([
    ['jqq', ['jq', 'jqp']],
    ['crul', ['curl']],
    ['ImageMagick', ['imagemagick', 'imagemagick-6-common']],
    ['imagemagik', ['imagemagick']],
    ['poppler', ['poppler-data', 'poppler-utils']],
    ['ghostscrpit', ['ghostscript']],
    ['no-such-package-xyz', []],
    ['zz-nopkg1', []],
  ])('%s → %j', (name, want) => {
    expect(nearestNames(name, DEBIAN)).toEqual(want);
  });
  it('never suggests the name itself, and at most three', () => {
    expect(nearestNames('git', DEBIAN)).toEqual(['gitk']);
    expect(nearestNames('ab', ['aa', 'ac', 'ad', 'ae', 'ab'])).toEqual(['aa', 'ac', 'ad']);
  });
});

describe("the other family's name (registry/package-names.json)", () => {
  const pairs = loadPackageNames().pairs;
  it.each([
    ['ImageMagick', 'deb', 'imagemagick'],
    ['imagemagick', 'rpm', 'ImageMagick'],
    ['httpd', 'deb', 'apache2'],
    ['apache2', 'rpm', 'httpd'],
    ['jq', 'deb', undefined],
  ] as const)('%s on %s → %s', (name, family, want) => {
    expect(otherFamilyName(name, family, pairs)).toBe(want);
  });
  it('suggests the translated name first, only when the repositories have it (or their names are unknown)', () => {
    expect(suggestionsFor('bind-utils', 'deb', new Set([...DEBIAN, 'dnsutils']), pairs)).toEqual(['dnsutils']);
    expect(suggestionsFor('bind-utils', 'deb', new Set(DEBIAN), pairs)).toEqual([]);
    expect(suggestionsFor('bind-utils', 'deb', undefined, pairs)).toEqual(['dnsutils']);
    expect(suggestionsFor('jqq', 'deb', undefined, pairs)).toEqual([]);
  });
});

describe('suggestionText', () => {
  it.each([
    [[['jqq', ['jq', 'jqp']]], 'did you mean jq or jqp?'],
    [[['jqq', ['jq']]], 'did you mean jq?'],
    [
      [
        ['jqq', ['jq']],
        ['crul', ['curl']],
        ['zz', []],
      ],
      'did you mean jq for jqq, curl for crul?',
    ],
    [[['zz', []]], undefined],
  ] as Array<[Array<[string, string[]]>, string | undefined]>)('%j', (entries, want) => {
    expect(suggestionText(new Map(entries))).toBe(want);
  });
});
