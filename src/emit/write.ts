import { promises as fs } from 'node:fs';
import path from 'node:path';
import type { CycloneDxBom } from '../sbom/cyclonedx.js';
import { sbomPathFor } from '../sbom/cyclonedx.js';
import type { GatedLayer } from '../format/gated.js';
import { commitTogether, stageAtomically, type StagedWrite } from '../util/atomic.js';
import { writeLayerDir } from './dir.js';
import { outputRule, sbomTarget, type ReplacePolicy } from './outputs.js';
import { stageLayerZipCached } from './zip.js';

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

/**
 * Writes a layer that passed the gate (check/gate.ts) to the outputs checked before the build
 * (emit/outputs.ts): each under a temporary name, renamed into place when complete, after the
 * same check of what it replaces. A zip and its SBOM belong together: both are written, then
 * both renamed at once (commitTogether), so an interrupt leaves both or neither. Parents are
 * created only when the caller checked they may be (a manifest's outputs inside its project).
 */
export async function writeLayerOutputs(
  layer: GatedLayer,
  sbom: CycloneDxBom | undefined,
  out: LayerOutputPaths,
  opts: {
    cacheDir: string | undefined;
    createParents?: boolean;
    step?: (title: string) => void;
    warn: (line: string) => void;
    /** How the user named the outputs, for messages (`--out`, `outputs.zip of layer 'x'`). */
    what?: { zip?: string; dir?: string };
    replace?: ReplacePolicy;
  },
): Promise<WrittenLayer> {
  const written: WrittenLayer = {};
  const parent = async (p: string) => {
    if (opts.createParents) await fs.mkdir(path.dirname(p), { recursive: true });
  };
  if (out.zip) {
    opts.step?.(`writing ${out.zip}`);
    await parent(out.zip);
    const zip = { path: out.zip, kind: 'zip' as const, what: opts.what?.zip ?? '--out' };
    const zipped = await stageLayerZipCached(layer, out.zip, opts.cacheDir, opts.warn, outputRule(zip, opts.replace));
    const staged: Array<StagedWrite<unknown>> = [zipped];
    try {
      if (sbom) {
        const text = JSON.stringify(sbom, null, 2) + '\n';
        staged.push(await stageAtomically(sbomPathFor(out.zip), (tmp) => fs.writeFile(tmp, text), outputRule(sbomTarget(zip), opts.replace)));
      }
    } catch (e) {
      await zipped.discard();
      throw e;
    }
    const r = zipped.result;
    await commitTogether(staged);
    written.zip = { path: out.zip, bytes: r.bytes, sha256: r.sha256, reused: r.reused };
    if (sbom) written.sbom = sbomPathFor(out.zip);
  }
  if (out.dir) {
    opts.step?.(`writing ${out.dir}/`);
    await parent(out.dir);
    await writeLayerDir(layer, out.dir, outputRule({ kind: 'dir', what: opts.what?.dir ?? '--out-dir' }, opts.replace));
    written.dir = out.dir;
  }
  return written;
}
