import { createHash } from 'node:crypto';
import { createReadStream, promises as fs } from 'node:fs';
import path from 'node:path';
import type { CycloneDxBom } from '../sbom/cyclonedx.js';
import { sbomPathFor } from '../sbom/cyclonedx.js';
import type { FileTree } from '../tree/types.js';
import { writeAtomically } from '../util/atomic.js';
import { writeLayerDir } from './dir.js';
import { writeLayerZipCached } from './zip.js';

/** Where a layer goes: a zip (with its SBOM beside it), a directory, or both. Absolute paths. */
export interface LayerOutputPaths {
  zip?: string | undefined;
  dir?: string | undefined;
}

export interface WrittenLayer {
  zip?: { path: string; bytes: number; sha256: string; reused: boolean };
  sbom?: string;
  dir?: string;
}

async function fileSha256(file: string): Promise<string> {
  const h = createHash('sha256');
  for await (const chunk of createReadStream(file)) h.update(chunk as Buffer);
  return h.digest('hex');
}

/**
 * Writes a layer that passed the gate (check/gate.ts) to the outputs checked before the build
 * (emit/outputs.ts): each under a temporary name, renamed into place when complete. Parents
 * are created only when the caller checked they may be (a manifest's outputs inside its project).
 */
export async function writeLayerOutputs(
  layer: FileTree,
  sbom: CycloneDxBom | undefined,
  out: LayerOutputPaths,
  opts: { cacheDir: string | undefined; createParents?: boolean; step?: (title: string) => void; warn: (line: string) => void },
): Promise<WrittenLayer> {
  const written: WrittenLayer = {};
  const parent = async (p: string) => {
    if (opts.createParents) await fs.mkdir(path.dirname(p), { recursive: true });
  };
  if (out.zip) {
    opts.step?.(`writing ${out.zip}`);
    await parent(out.zip);
    const r = await writeLayerZipCached(layer, out.zip, opts.cacheDir, opts.warn);
    written.zip = { path: out.zip, bytes: r.bytes, sha256: await fileSha256(out.zip), reused: r.reused };
    if (sbom) {
      const text = JSON.stringify(sbom, null, 2) + '\n';
      written.sbom = sbomPathFor(out.zip);
      await writeAtomically(written.sbom, (tmp) => fs.writeFile(tmp, text));
    }
  }
  if (out.dir) {
    opts.step?.(`writing ${out.dir}/`);
    await parent(out.dir);
    await writeLayerDir(layer, out.dir);
    written.dir = out.dir;
  }
  return written;
}
