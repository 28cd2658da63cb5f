import { describe, expect, it } from 'vitest';
import type { LayerManifest } from '../../src/format/layer-manifest.js';
import type { Recipe } from '../../src/recipes/types.js';
import { loadRuntime } from '../../src/registry/load.js';
import { closureResult, formatResult, outputGist, smokeTestsFor } from '../../src/check/verify.js';

const runtime = loadRuntime('debian12');

describe('verify results', () => {
  it('the closure line names each missing soname with the first file that needs it', () => {
    const r = closureResult(
      {
        checked: 20,
        missing: [
          { file: '/opt/bin/a', soname: 'libx.so.1' },
          { file: '/opt/bin/b', soname: 'libx.so.1' },
          { file: '/opt/lib/liby.so.2', soname: 'libz.so.9' },
        ],
        unreadable: [],
        versions: [],
        cLibrary: [],
      },
      runtime,
    );
    expect(formatResult(r)).toBe(
      'FAIL closure: /opt/bin/a and 1 more file need libx.so.1, which is not in the layer or the debian12 runtime; /opt/lib/liby.so.2 needs libz.so.9, which is not in the layer or the debian12 runtime',
    );
    expect(formatResult(closureResult({ checked: 7, missing: [], unreadable: [], versions: [], cLibrary: [] }, runtime))).toBe(
      'PASS closure: 7 ELF files, every needed library is in the layer or the debian12 runtime',
    );
    expect(closureResult({ checked: 7, missing: [], unreadable: [{ file: '/opt/lib/x.so', why: 'truncated' }], versions: [], cLibrary: [] }, runtime).status).toBe('fail');
  });

  it('output in one line: the start for a pass, the end for a failure', () => {
    const out = 'line one\n\nline two\n' + 'x'.repeat(300) + '\nthe error';
    expect(outputGist(out, 20, 'start')).toBe('line one ⏎ line two …');
    expect(outputGist(out, 20)).toBe('…xxxxxxxx ⏎ the error');
  });

  it('smoke tests come from the recipes the layer names, for the versions it holds; unknown names are reported', () => {
    const recipes: Recipe[] = [
      {
        name: 'tool',
        description: 'd',
        packages: { deb: ['tool'] },
        smoke: [{ run: 'tool -v', expect: 'tool' }],
        variants: [{ versions: '>=2', smoke: [{ run: 'tool --new', expect: 'new' }] }],
      },
      { name: 'other', description: 'd', packages: { deb: ['other'] }, smoke: [{ run: 'other', expect: 'x' }] },
    ];
    const manifest = { recipes: ['tool', 'gone'], packages: [{ name: 'tool', version: '2.1-1' }] } as unknown as LayerManifest;
    expect(smokeTestsFor(manifest, recipes, 'deb')).toEqual({
      tests: [
        { recipe: 'tool', run: 'tool -v', expect: 'tool' },
        { recipe: 'tool', run: 'tool --new', expect: 'new' },
      ],
      unknown: ['gone'],
    });
  });
});
