import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { ContentStore } from '../../src/cache/content-store.js';
import { PACK_LEVEL, PACK_TIGHT_LEVEL } from '../../src/pack/assemble.js';
import { packLayer } from '../../src/pack/pack.js';
import { LocalRunner } from '../../src/runner/local.js';
import { unzippedSize } from '../../src/emit/archive-entries.js';
import { file, treeOf } from '../helpers/tree.js';
import { tempDir } from '../helpers/tmp.js';

/**
 * Issue 24: --pack compresses at a fast zstd level, and again at the slow one only when the fast
 * archive leaves the layer over the limit. Real tar and zstd on this machine (the LocalRunner
 * that --local uses), on text that level 19 compresses clearly better than level 9.
 */
describe('the packed layer compression level', () => {
  // words drawn from a small vocabulary with long-range repeats: zstd -19's optimal parser gains here
  const words = Array.from({ length: 4000 }, () => randomBytes(6).toString('base64url'));
  const text = Array.from({ length: 400_000 }, (_, i) => words[(i * 7919 + (i >> 6)) % words.length]).join(' ');
  const layer = treeOf([file('/opt/share/words.txt', text), file('/opt/bin/tool', '#!/bin/sh\necho ok\n', 0o755)]);

  const pack = async (limitBytes: number) => {
    const steps: string[] = [];
    const r = await packLayer({
      layer,
      buildTools: async () => new Map(),
      runtimePackages: new Set(['tar', 'zstd']),
      runner: async () => new LocalRunner(),
      store: new ContentStore(tempDir('yumda-pack-store-')),
      cacheDir: tempDir('yumda-pack-records-'),
      step: (l) => steps.push(l),
      warn: (l) => steps.push(`warning: ${l}`),
      limitBytes,
    });
    return { ...r, steps, bytes: unzippedSize(r.layer) };
  };

  it('uses the fast level when the layer fits, and the tight level when only that fits', async () => {
    const fast = await pack(Number.MAX_SAFE_INTEGER);
    expect(fast.report.manifest.compression.level).toBe(PACK_LEVEL);
    expect(fast.steps.filter((s) => s.startsWith('compressing'))).toEqual([`compressing the tree with zstd -${PACK_LEVEL} --long=27`]);

    // a limit just under the fast layer: not 1 byte under, since a second fast pack of the same tree
    // once came out that much smaller on a loaded machine (then it fit, and the level stayed fast);
    // level 19 is about 10% smaller here, far below this margin
    const tight = await pack(fast.bytes - 4096);
    expect(tight.report.manifest.compression.level).toBe(PACK_TIGHT_LEVEL);
    expect(tight.steps).toContainEqual(
      expect.stringMatching(new RegExp(`^at zstd -${PACK_LEVEL} the layer is .*, over Lambda's limit: compressing again at -${PACK_TIGHT_LEVEL}$`)),
    );
    expect(tight.report.manifest.packedBytes).toBeLessThan(fast.report.manifest.packedBytes);
    expect(tight.bytes).toBeLessThan(fast.bytes);
  }, 120_000);
});
