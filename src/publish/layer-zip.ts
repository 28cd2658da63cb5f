import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { openLayer } from '../layer/open.js';
import type { LayerManifest } from '../format/layer-manifest.js';
import { MANIFEST_PATH } from '../format/layer-manifest.js';
import { UserError } from '../util/errors.js';

/** What publishing needs to know about a layer zip: its size, its hash as Lambda states it, and its manifest. */
export interface LayerZipInfo {
  file: string;
  bytes: number;
  /** Base64 SHA-256 of the zip: what Lambda reports as a layer version's Content.CodeSha256. */
  codeSha256: string;
  sha256Hex: string;
  manifest: LayerManifest;
}

/**
 * Reads a layer zip for publishing through the same reader as inspect and verify: every entry's
 * name, CRC-32 and size are checked before anything is uploaded, and the manifest gets the one
 * validation every command applies.
 */
export async function readLayerZip(file: string): Promise<LayerZipInfo> {
  const layer = await openLayer(file);
  if (layer.format !== 'zip')
    throw new UserError(`${file} is an ${layer.format} image tarball; Lambda layers are zips`, { hint: 'publish the layer zip (yumda install), or push the image with docker' });
  if (!layer.manifest)
    throw new UserError(`${file} has no ${MANIFEST_PATH.replace(/^\/opt\//, '')}: not a layer built by yumda`, { hint: 'build it with yumda install or yumda build' });
  const h = createHash('sha256');
  for await (const chunk of createReadStream(file)) h.update(chunk as Buffer);
  const digest = h.digest();
  return { file, bytes: layer.archiveBytes, codeSha256: digest.toString('base64'), sha256Hex: digest.toString('hex'), manifest: layer.manifest };
}
