import { Readable } from 'node:stream';
import tar from 'tar-stream';
import { describe, expect, it } from 'vitest';
import { ContentStore } from '../../src/cache/content-store.js';
import { relocate } from '../../src/relocate/relocate.js';
import { DEFAULT_KEEP } from '../../src/relocate/placement.js';
import { extractTar } from '../../src/stage/extract.js';
import { readContent } from '../../src/tree/types.js';
import { tempDir } from '../helpers/tmp.js';

/** A tar as a package's data archive holds mesa's drivers: one file, then hard links to it. */
async function tarWithHardLinks(): Promise<Readable> {
  const pack = tar.pack();
  const driver = Buffer.alloc(64 * 1024, 7);
  pack.entry({ name: './usr/lib/x86_64-linux-gnu/dri/radeonsi_dri.so', mode: 0o644, size: driver.length }, driver);
  for (const name of ['r600_dri.so', 'swrast_dri.so']) {
    pack.entry({ name: `./usr/lib/x86_64-linux-gnu/dri/${name}`, type: 'link', linkname: './usr/lib/x86_64-linux-gnu/dri/radeonsi_dri.so', mode: 0o644 });
  }
  pack.finalize();
  return Readable.from(pack);
}

describe('hard links (issue 12, class 3)', () => {
  it('arrive from the package archive as one content under several names, and leave relocation as relative symlinks to one copy', async () => {
    const store = new ContentStore(tempDir('yumda-hardlinks-'));
    const { trees } = await extractTar(await tarWithHardLinks(), store, (name) => ({ tree: 'root', path: `/${name}` }));
    const staged = trees.get('root')!;
    const { layer, report } = relocate({ staged, layout: { triplet: 'x86_64-linux-gnu', keep: DEFAULT_KEEP }, recipes: [], shell: '/bin/sh' });
    const kept = layer.get('/opt/lib/dri/r600_dri.so');
    expect(kept?.kind).toBe('file');
    expect(kept?.kind === 'file' && readContent(kept.content).length).toBe(64 * 1024);
    expect(layer.get('/opt/lib/dri/radeonsi_dri.so')).toMatchObject({ kind: 'symlink', target: 'r600_dri.so' });
    expect(layer.get('/opt/lib/dri/swrast_dri.so')).toMatchObject({ kind: 'symlink', target: 'r600_dri.so' });
    expect(report.deduplicated.savedBytes).toBe(2 * 64 * 1024);
  });
});
