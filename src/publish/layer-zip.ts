import { createHash } from 'node:crypto';
import { createReadStream, statSync } from 'node:fs';
import yauzl from 'yauzl';
import type { LayerManifest } from '../pipeline/manifest.js';
import { MANIFEST_PATH } from '../pipeline/manifest.js';
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

const MANIFEST_ENTRY = MANIFEST_PATH.replace(/^\/opt\//, '');

function readEntry(file: string, name: string): Promise<Buffer | undefined> {
  return new Promise((resolve, reject) => {
    yauzl.open(file, { lazyEntries: true, autoClose: true }, (err, zip) => {
      if (err || !zip) return reject(err ?? new Error('cannot open'));
      let found = false;
      zip.on('error', reject);
      zip.on('end', () => {
        if (!found) resolve(undefined);
      });
      zip.on('entry', (e: yauzl.Entry) => {
        if (e.fileName !== name) return zip.readEntry();
        found = true;
        zip.openReadStream(e, (err2, stream) => {
          if (err2 || !stream) return reject(err2 ?? new Error('cannot read'));
          const chunks: Buffer[] = [];
          stream.on('data', (c: Buffer) => chunks.push(c));
          stream.on('error', reject);
          stream.on('end', () => {
            zip.close();
            resolve(Buffer.concat(chunks));
          });
        });
      });
      zip.readEntry();
    });
  });
}

export async function readLayerZip(file: string): Promise<LayerZipInfo> {
  let bytes: number;
  try {
    bytes = statSync(file).size;
  } catch (e) {
    throw new UserError(`${file}: cannot read (${(e as NodeJS.ErrnoException).code ?? e})`);
  }
  let data: Buffer | undefined;
  try {
    data = await readEntry(file, MANIFEST_ENTRY);
  } catch (e) {
    throw new UserError(`${file} is not a readable zip (${(e as Error).message})`);
  }
  if (!data) throw new UserError(`${file} has no ${MANIFEST_ENTRY}: not a layer built by yumda`, { hint: 'build it with yumda install or yumda build' });
  let manifest: LayerManifest;
  try {
    manifest = JSON.parse(data.toString('utf8')) as LayerManifest;
  } catch {
    throw new UserError(`${file}: ${MANIFEST_ENTRY} is not valid JSON`);
  }
  if (!manifest.target || !manifest.arch) throw new UserError(`${file}: ${MANIFEST_ENTRY} names no target or architecture`);
  const h = createHash('sha256');
  for await (const chunk of createReadStream(file)) h.update(chunk as Buffer);
  const digest = h.digest();
  return { file, bytes, codeSha256: digest.toString('base64'), sha256Hex: digest.toString('hex'), manifest };
}
