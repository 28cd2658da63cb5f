import { closeSync, openSync, readFileSync, readSync, statSync } from 'node:fs';
import yauzl from 'yauzl';
import { MANIFEST_PATH } from '../format/layer-manifest.js';
import { READ_LIMITS } from '../layer/limits.js';
import { LAYER_ROOT } from '../format/lambda.js';

/**
 * What yumda writes to a path someone names, and how it tells its own earlier output there from
 * anything else: an output may take the place of what yumda wrote (a rebuild), never of something
 * it did not (README: "Outputs never take the place of something yumda did not write"). Each
 * recognizer reads only what marks the file as yumda's, within a fixed bound, and says no to
 * whatever it cannot read.
 */
export type OutputKind = 'zip' | 'sbom' | 'image' | 'lock' | 'runtime' | 'dir';

/** The kind as a noun, for messages. */
export const OUTPUT_NOUN: Record<OutputKind, string> = {
  zip: 'a layer zip',
  sbom: 'an SBOM',
  image: 'an image tarball',
  lock: 'a lock file',
  runtime: 'a runtime manifest',
  dir: 'a layer directory',
};

/** What marks a file of the kind as yumda's, for messages. */
export const OUTPUT_MARK: Record<Exclude<OutputKind, 'dir'>, string> = {
  zip: `no ${MANIFEST_PATH.slice(LAYER_ROOT.length + 1)} in it`,
  sbom: 'no CycloneDX metadata naming yumda as its tool',
  image: 'no image config naming yumda as its maker',
  lock: 'no lockfileVersion and layers in it',
  runtime: 'no id, family, packages and provenance in it',
};

/** The layer manifest's name inside a zip: every layer yumda writes carries it. */
const ZIP_MARK = MANIFEST_PATH.slice(LAYER_ROOT.length + 1);
/** JSON documents yumda writes are far smaller; a larger file is not one of them. */
const JSON_LIMIT = 64 * 1024 * 1024;

/** Whether the regular file at `file` is an output of `kind` that yumda wrote. */
export async function isOwnOutput(file: string, kind: Exclude<OutputKind, 'dir'>): Promise<boolean> {
  try {
    switch (kind) {
      case 'zip':
        return await zipHasEntry(file, ZIP_MARK);
      case 'image':
        return isOwnImageTarball(file);
      case 'sbom': {
        const doc = readJson(file) as { bomFormat?: unknown; metadata?: { tools?: { components?: Array<{ name?: unknown }> } } } | undefined;
        return doc?.bomFormat === 'CycloneDX' && (doc.metadata?.tools?.components ?? []).some((c) => c?.name === 'yumda');
      }
      case 'lock': {
        const doc = readJson(file) as { lockfileVersion?: unknown; layers?: unknown } | undefined;
        return typeof doc?.lockfileVersion === 'number' && Array.isArray(doc.layers);
      }
      case 'runtime': {
        const doc = readJson(file) as { id?: unknown; family?: unknown; packages?: unknown; provenance?: unknown } | undefined;
        return typeof doc?.id === 'string' && (doc.family === 'rpm' || doc.family === 'deb') && Array.isArray(doc.packages) && typeof doc.provenance === 'object';
      }
    }
  } catch {
    return false;
  }
}

function readJson(file: string): unknown {
  if (statSync(file).size > JSON_LIMIT) return undefined;
  try {
    return JSON.parse(readFileSync(file, 'utf8'));
  } catch {
    return undefined;
  }
}

/** Whether the zip's central directory names `name` (a file entry): no entry data is read. */
async function zipHasEntry(file: string, name: string): Promise<boolean> {
  const zip = await yauzl.openPromise(file, { lazyEntries: true, autoClose: false, decodeStrings: false });
  try {
    if (zip.entryCount > READ_LIMITS.entries) return false;
    const want = Buffer.from(name);
    for await (const e of zip.eachEntry()) {
      if ((e.fileNameRaw as unknown as Buffer).equals(want)) return true;
    }
    return false;
  } finally {
    zip.close();
  }
}

interface TarMember {
  name: string;
  offset: number;
  size: number;
}

/**
 * The members of a tar file, found by seeking from header to header (member data is skipped, not
 * read): ustar names with their prefix, pax `path` records and GNU long names.
 */
export function tarMembers(file: string, max = READ_LIMITS.entries): TarMember[] {
  const fd = openSync(file, 'r');
  const total = statSync(file).size;
  const out: TarMember[] = [];
  const header = Buffer.alloc(512);
  const text = (b: Buffer) => b.toString('utf8', 0, b.indexOf(0) === -1 ? b.length : b.indexOf(0));
  const read = (offset: number, size: number) => {
    const b = Buffer.alloc(size);
    readSync(fd, b, 0, size, offset);
    return b;
  };
  try {
    let pos = 0;
    let longName: string | undefined;
    while (pos + 512 <= total && out.length < max) {
      if (readSync(fd, header, 0, 512, pos) !== 512 || header.every((x) => x === 0)) break;
      const sizeField = header.subarray(124, 136);
      const size = sizeField[0]! & 0x80 ? Number(sizeField.readBigUInt64BE(4)) : parseInt(text(sizeField).trim() || '0', 8);
      if (!Number.isFinite(size) || size < 0) break;
      const type = String.fromCharCode(header[156]!);
      const data = pos + 512;
      if (type === 'x' || type === 'L') {
        if (size > READ_LIMITS.metadataBytes) break;
        const body = read(data, size);
        longName = type === 'L' ? text(body) : /(?:^|\n)\d+ path=([^\n]*)\n/.exec(body.toString('utf8'))?.[1];
      } else {
        const prefix = header.subarray(257, 262).toString('latin1') === 'ustar' ? text(header.subarray(345, 500)) : '';
        const name = longName ?? (prefix ? `${prefix}/${text(header.subarray(0, 100))}` : text(header.subarray(0, 100)));
        longName = undefined;
        if (type === '0' || type === '\0') out.push({ name: name.replace(/^\.\//, ''), offset: data, size });
      }
      pos = data + Math.ceil(size / 512) * 512;
    }
  } finally {
    closeSync(fd);
  }
  return out;
}

/** An image tarball (OCI layout or docker-archive) whose config records yumda as its maker. */
function isOwnImageTarball(file: string): boolean {
  const members = tarMembers(file);
  const member = (name: string) => members.find((m) => m.name === name);
  const json = (m: TarMember | undefined): unknown => {
    if (!m || m.size > READ_LIMITS.metadataBytes) return undefined;
    const fd = openSync(file, 'r');
    try {
      const b = Buffer.alloc(m.size);
      readSync(fd, b, 0, m.size, m.offset);
      return JSON.parse(b.toString('utf8'));
    } catch {
      return undefined;
    } finally {
      closeSync(fd);
    }
  };
  const manifest = json(member('manifest.json')) as Array<{ Config?: unknown }> | undefined;
  const configName = Array.isArray(manifest) ? manifest[0]?.Config : undefined;
  if (typeof configName !== 'string') return false;
  const config = json(member(configName)) as { history?: Array<{ created_by?: unknown }> } | undefined;
  return (config?.history ?? []).some((h) => typeof h?.created_by === 'string' && h.created_by.startsWith('yumda '));
}
