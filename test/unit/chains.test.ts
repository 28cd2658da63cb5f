import { describe, expect, it } from 'vitest';
import { chainsWithRecommends, dependencyEdges, directParents, formatChain, shortestChains } from '../../src/resolve/chains.js';

/** A plan's dependency records: `deps` as alternatives of names, as the backends record them. */
const pkg = (name: string, deps: string[][] = [], provides: string[] = []) => ({ name, provides, depends: deps });

// imagemagick's shape on debian12: two paths of different length reach libgs10, one package is
// reached through a virtual name, one alternative names two planned packages, and one dependency
// is the runtime's (libc6: no planned package provides it)
const plan = [
  pkg('imagemagick', [['imagemagick-6.q16']]),
  pkg('imagemagick-6.q16', [['libmagickcore-6.q16-6'], ['libmagickwand-6.q16-6'], ['libc6']]),
  pkg('libmagickwand-6.q16-6', [['libmagickcore-6.q16-6']]),
  pkg('libmagickcore-6.q16-6', [['libgs10'], ['liblcms2-2'], ['fonts-x | fonts-y']]),
  pkg('libgs10', [['libgs-common'], ['liblcms2-2'], ['fonts-x', 'fonts-y']]),
  pkg('liblcms2-2'),
  pkg('libgs-common', [['libgs10']]),
  pkg('fonts-dejavu', [], ['fonts-x']),
  pkg('fonts-urw', [], ['fonts-y']),
  pkg('tool', [['libgs10']]),
];

describe('dependency chains of a plan (issue 22: yumda why)', () => {
  it('edges go to every planned provider, by name or virtual name, and never to the runtime', () => {
    const e = dependencyEdges(plan);
    expect(e.get('libgs10')).toEqual(['fonts-dejavu', 'fonts-urw', 'libgs-common', 'liblcms2-2']);
    expect(e.get('imagemagick-6.q16')).toEqual(['libmagickcore-6.q16-6', 'libmagickwand-6.q16-6']);
    expect(e.get('liblcms2-2')).toEqual([]);
    // a package's dependency on itself (or on a name it provides) is no edge
    expect(dependencyEdges([pkg('a', [['a'], ['x']], ['x'])]).get('a')).toEqual([]);
  });

  it.each([
    { name: 'a library three steps down', requested: ['imagemagick'], target: 'libgs10', chains: [['imagemagick', 'imagemagick-6.q16', 'libmagickcore-6.q16-6', 'libgs10']] },
    {
      name: 'a package also reached by a longer chain: the shortest only',
      requested: ['imagemagick'],
      target: 'liblcms2-2',
      chains: [['imagemagick', 'imagemagick-6.q16', 'libmagickcore-6.q16-6', 'liblcms2-2']],
    },
    {
      name: 'one chain per requested package that reaches it',
      requested: ['imagemagick', 'tool'],
      target: 'libgs-common',
      chains: [
        ['imagemagick', 'imagemagick-6.q16', 'libmagickcore-6.q16-6', 'libgs10', 'libgs-common'],
        ['tool', 'libgs10', 'libgs-common'],
      ],
    },
    { name: 'through a virtual name', requested: ['tool'], target: 'fonts-urw', chains: [['tool', 'libgs10', 'fonts-urw']] },
    { name: 'a requested package: itself', requested: ['imagemagick'], target: 'imagemagick', chains: [['imagemagick']] },
    { name: 'a package the requested one does not reach', requested: ['tool'], target: 'imagemagick', chains: [] },
    { name: 'a package not in the plan', requested: ['imagemagick'], target: 'libc6', chains: [] },
    { name: 'a dependency cycle does not loop', requested: ['tool'], target: 'libgs-common', chains: [['tool', 'libgs10', 'libgs-common']] },
  ])('$name', ({ requested, target, chains }) => {
    expect(shortestChains(plan, requested, target)).toEqual(chains);
  });

  it('every shortest chain, in order, up to the limit', () => {
    const diamond = [pkg('top', [['b'], ['a']]), pkg('a', [['lib']]), pkg('b', [['lib']]), pkg('lib')];
    expect(shortestChains(diamond, ['top'], 'lib')).toEqual([
      ['top', 'a', 'lib'],
      ['top', 'b', 'lib'],
    ]);
    expect(shortestChains(diamond, ['top'], 'lib', 1)).toEqual([['top', 'a', 'lib']]);
  });

  it('the direct parents are the packages one step nearer a requested one', () => {
    const p = directParents(plan, ['imagemagick']);
    expect(p.get('imagemagick')).toBeUndefined();
    expect(p.get('imagemagick-6.q16')).toEqual(['imagemagick']);
    // libmagickcore is depended on by imagemagick-6.q16 (step 2) and libmagickwand (step 3): the nearer one
    expect(p.get('libmagickcore-6.q16-6')).toEqual(['imagemagick-6.q16']);
    expect(p.get('libgs10')).toEqual(['libmagickcore-6.q16-6']);
    expect(p.get('libgs-common')).toEqual(['libgs10']);
    // `tool` is not requested: nothing pulls it in, and it pulls nothing in
    expect(p.has('tool')).toBe(false);
    expect(directParents(plan, ['imagemagick', 'tool']).get('libgs10')).toEqual(['tool']);
  });
});

describe('chains through recommendations (what the plan leaves out)', () => {
  const weak = (name: string, depends: string[][] = [], recommends: string[][] = [], provides: string[] = []) => ({ name, provides, depends, recommends });
  // debian12: libmagickcore-6.q16-6 only recommends ghostscript, which depends on libgs10
  const nodes = [
    weak('imagemagick', [['imagemagick-6.q16']]),
    weak('imagemagick-6.q16', [['libmagickcore-6.q16-6']]),
    weak('libmagickcore-6.q16-6', [['liblcms2-2']], [['ghostscript'], ['gsfonts']]),
    weak('ghostscript', [['libgs10']]),
    weak('libgs10', [['liblcms2-2']], [['fonts-urw']]),
    weak('liblcms2-2'),
    weak('fonts-urw', [], [], ['gsfonts']),
  ];

  it.each([
    { target: 'libgs10', chain: 'imagemagick → imagemagick-6.q16 → libmagickcore-6.q16-6 (recommends) → ghostscript → libgs10' },
    { target: 'liblcms2-2', chain: 'imagemagick → imagemagick-6.q16 → libmagickcore-6.q16-6 → liblcms2-2' },
    // recommended under a virtual name
    { target: 'fonts-urw', chain: 'imagemagick → imagemagick-6.q16 → libmagickcore-6.q16-6 (recommends) → fonts-urw' },
    { target: 'xfig', chain: undefined },
  ])('$target', ({ target, chain }) => {
    expect(chainsWithRecommends(nodes, ['imagemagick'], target).map(formatChain)[0]).toBe(chain);
  });

  it('a package both depended on and recommended is a dependency', () => {
    const both = [weak('a', [['b']], [['b']]), weak('b')];
    expect(chainsWithRecommends(both, ['a'], 'b')).toEqual([[{ name: 'a' }, { name: 'b', via: 'depends' }]]);
  });
});

describe("the plan's PULLED IN BY column", () => {
  it('names the direct parent, and the requested package where the plan records no dependencies', async () => {
    const { formatPlan } = await import('../../src/cli/ui.js');
    const { loadTarget } = await import('../../src/registry/load.js');
    const { parseArch } = await import('../../src/registry/arch.js');
    const p = (name: string, depends: string[][], requiredBy: string[], requested = false) => ({
      name,
      version: '1',
      arch: 'amd64',
      downloadSize: 1,
      installedSize: 1024,
      requiredBy,
      requested,
      provides: [],
      depends,
    });
    const plan = {
      packages: [
        p('tool', [['libtool1'], ['libz']], ['tool'], true),
        p('libtool1', [['libx'], ['liby']], ['tool']),
        p('libx', [['libz']], ['tool']),
        p('liby', [['libz']], ['tool']),
        p('libz', [], ['tool']),
        p('libw', [], ['tool']),
      ],
      fromRuntime: [],
      skew: [],
    };
    const text = formatPlan(plan, { target: loadTarget('debian12'), arch: parseArch('x86_64'), image: 'img', repositories: [] }, { sources: false });
    expect(text.split('\n').slice(2)).toEqual([
      '  tool      1        1.0 KiB  (requested)',
      '  libtool1  1        1.0 KiB  tool',
      '  libx      1        1.0 KiB  libtool1',
      '  liby      1        1.0 KiB  libtool1',
      // tool depends on libz itself: the nearest parent, not libx or liby
      '  libz      1        1.0 KiB  tool',
      // no dependency record reaches it: the requested package that pulled it in, as resolved
      '  libw      1        1.0 KiB  tool',
    ]);
  });
});
