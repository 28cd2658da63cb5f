import { chmodSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { writeLayerDir } from '../../src/emit/dir.js';
import { loadRuntime } from '../../src/registry/load.js';
import { DEFAULT_KEEP } from '../../src/relocate/placement.js';
import { relocate } from '../../src/relocate/relocate.js';
import { file, treeOf } from '../helpers/tree.js';
import { tempDir } from '../helpers/tmp.js';
import { dirPrograms } from '../helpers/dir-programs.js';
import { ensureRuntimeImage, runLambdaLike } from '../helpers/lambda.js';

/**
 * Issue 12, class 2, run: the two kinds of program the issue saw (a tool that runs helpers from
 * its compiled-in bindir, a library that finds modules under its compiled-in libdir), compiled
 * here, relocated, and run Lambda-like with the layer at /opt. Before the directory rule the
 * first printed "error running '/usr/bin/mytool-helper': probably not installed" and the second
 * "no modules in /usr/lib/x86_64-linux-gnu/modfmt-modules-1.2".
 */
describe('programs that join names to compiled-in directories, relocated and run Lambda-like', () => {
  const work = tempDir('yumda-dirs-e2e-');
  const layerDir = path.join(work, 'layer');
  let image: string;

  beforeAll(async () => {
    chmodSync(work, 0o755);
    const p = await dirPrograms();
    const M = 'x86_64-linux-gnu';
    const staged = treeOf([
      file('/usr/bin/mytool', p.helperTool, 0o755, 'mytool'),
      file('/usr/bin/mytool-helper', '#!/bin/sh\necho "helper ran as $0"\n', 0o755, 'mytool'),
      file(`/usr/lib/${M}/libmodfmt.so.1`, p.moduleLib, 0o644, 'libmodfmt1'),
      file(`/usr/lib/${M}/modfmt-modules-1.2/png.mod`, 'png', 0o644, 'libmodfmt1'),
      file(`/usr/lib/${M}/modfmt-modules-1.2/tiff.mod`, 'tiff', 0o644, 'libmodfmt1'),
      file('/usr/bin/modcat', p.moduleProgram, 0o755, 'modcat'),
    ]);
    const { layer } = relocate({ staged, layout: { triplet: M, keep: DEFAULT_KEEP }, recipes: [], shell: '/bin/sh' });
    await writeLayerDir(layer, layerDir);
    chmodSync(layerDir, 0o755);
    const runtime = loadRuntime('debian12');
    image = await ensureRuntimeImage(runtime.verifyImage!.name, runtime.verifyImage!.context);
  });

  it.each([
    { how: "Lambda's LD_LIBRARY_PATH", ldLibraryPath: undefined },
    { how: 'LD_LIBRARY_PATH unset', ldLibraryPath: null },
  ])('the tool runs its helper from /opt/bin, the library lists its modules under /opt/lib ($how)', async ({ ldLibraryPath }) => {
    const r = await runLambdaLike(image, layerDir, 'mytool; modcat', { ldLibraryPath });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines[0]).toBe('helper ran as /opt/bin/mytool-helper');
    expect(lines.slice(1).sort()).toEqual(['module png.mod', 'module tiff.mod']);
  });
});
