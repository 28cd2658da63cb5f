import { createHash } from 'node:crypto';
import { constants as fsConstants, createReadStream, createWriteStream, promises as fs } from 'node:fs';
import path from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { entryState, removeEntry, unreadable } from '../cache/entry.js';
import { droppedLine, JsonStore } from '../cache/json-store.js';
import { commitTogether, INTERNAL_FILE, stageAtomically, writeAtomically, type ReplaceRule, type StagedWrite } from '../util/atomic.js';
import { outputRule } from './outputs.js';
import { sha256 } from '../util/hash.js';
import { readContent, type FileTree } from '../tree/types.js';
import { archiveEntries } from './archive-entries.js';
import { writeZip, type ZipEntry } from './zip-writer.js';
import { deflatedCacheIn, type DeflatedCache } from './deflated.js';

/**
 * The identity of a layer's archive: names, kinds, modes, link targets and content hashes in
 * archive order. Equal digests mean byte-identical zips. A file's hash is the one the content
 * store verified (`Content.sha256`), else the hash of its bytes: never a file's name.
 */
export function layerDigest(layer: FileTree): string {
  const h = createHash('sha256');
  // v4: zstd and xz streams are stored without trying deflate (zip-writer.ts)
  h.update(`yumda-zip-v4 level6\n`);
  for (const { name, entry } of archiveEntries(layer)) {
    if (entry.kind === 'dir') h.update(`d ${name} ${entry.mode}\n`);
    else if (entry.kind === 'symlink') h.update(`l ${name} ${entry.target}\n`);
    else {
      const content = entry.content.kind === 'file' && entry.content.sha256 ? entry.content.sha256 : sha256(readContent(entry.content));
      h.update(`f ${name} ${entry.mode} ${entry.size} ${content}\n`);
    }
  }
  return h.digest('hex');
}

/** schema/cache-zip.schema.json: what a cached zip must be, recorded when it was written. */
interface CachedZip {
  sha256: string;
  bytes: number;
}

/**
 * Writes the zip under a temporary name beside `dest` (put in place by the caller's commit), or
 * copies there the one a previous build wrote for the same layer digest in `cacheDir` (a warm
 * rebuild of an unchanged layer costs a file copy). The copy is hashed as it is made and must
 * match the sha256 recorded beside the cached zip: one read of the zip, where testing its
 * entries' CRCs would inflate every one. A cached zip that does not match is dropped, with one
 * line through `warn`, and the zip is written anew: with the deflated copies of the files earlier
 * zips held (cacheDir/deflated, emit/deflated.ts), so only new content is deflated.
 */
export async function stageLayerZipCached(
  layer: FileTree,
  dest: string,
  cacheDir: string | undefined,
  warn: (line: string) => void,
  rule: ReplaceRule,
): Promise<StagedWrite<{ bytes: number; sha256: string; reused: boolean }>> {
  if (!cacheDir) return stageLayerZip(layer, dest, rule, false);
  const digest = layerDigest(layer);
  const cached = path.join(cacheDir, `${digest}.zip`);
  const records = new JsonStore<CachedZip>(cacheDir, 'cache-zip');
  const record = records.get(digest);
  if (record && 'damaged' in record) {
    warn(droppedLine(`the record of the cached layer zip (${record.file})`, record.damaged, 'writing the zip anew'));
  } else if (record && !('missing' in entryState(cached))) {
    const copied = await copyVerified(cached, dest, record.value, rule);
    if (!('problem' in copied)) return copied;
    warn(droppedLine(`the cached layer zip (${cached})`, copied.problem, 'writing the zip anew'));
    records.drop(digest);
    removeEntry(cached);
  } else if ('damaged' in entryState(cached)) removeEntry(cached);
  return stageAtomically(
    dest,
    async (tmp) => {
      const r = await writeZip(tmp, zipEntries(layer), { deflated: deflatedCacheIn(cacheDir, warn) });
      await fs.mkdir(cacheDir, { recursive: true });
      await writeAtomically(cached, (t) => fs.copyFile(tmp, t, fsConstants.COPYFILE_FICLONE), INTERNAL_FILE);
      records.put(digest, { sha256: r.sha256, bytes: r.bytes });
      return { ...r, reused: false };
    },
    rule,
  );
}

/** `stageLayerZipCached`, put in place at once. */
export async function writeLayerZipCached(
  layer: FileTree,
  dest: string,
  cacheDir: string | undefined,
  warn: (line: string) => void,
  rule: ReplaceRule = outputRule({ kind: 'zip', what: 'the layer zip' }),
): Promise<{ bytes: number; sha256: string; reused: boolean }> {
  const staged = await stageLayerZipCached(layer, dest, cacheDir, warn, rule);
  await commitTogether([staged]);
  return staged.result;
}

/** Copies `src` beside `dest` if its bytes are the recorded ones; else leaves `dest` as it was and says why. */
async function copyVerified(
  src: string,
  dest: string,
  want: CachedZip,
  rule: ReplaceRule,
): Promise<StagedWrite<{ bytes: number; sha256: string; reused: boolean }> | { problem: string }> {
  const st = entryState(src);
  if (!('size' in st)) return { problem: 'damaged' in st ? st.damaged : 'gone' };
  if (st.size !== want.bytes) return { problem: `${st.size} bytes instead of ${want.bytes}` };
  const mismatch = new Error('sha256 mismatch');
  const unread = new Error('unreadable');
  let readError: unknown;
  try {
    return await stageAtomically(
      dest,
      async (tmp) => {
        const h = createHash('sha256');
        const hashing = new Transform({
          transform(chunk: Buffer, _enc, done) {
            h.update(chunk);
            done(null, chunk);
          },
        });
        await pipeline(
          createReadStream(src).on('error', (e) => {
            readError = e;
          }),
          hashing,
          createWriteStream(tmp),
        ).catch((e) => {
          throw readError !== undefined ? unread : e;
        });
        if (h.digest('hex') !== want.sha256) throw mismatch;
        return { bytes: want.bytes, sha256: want.sha256, reused: true };
      },
      rule,
    );
  } catch (e) {
    if (e === mismatch) return { problem: 'its sha256 does not match the one recorded when it was written' };
    if (e === unread) return { problem: unreadable(readError) };
    throw e;
  }
}

/**
 * Writes a layer as a Lambda layer zip: entries sorted, fixed times, unix modes, symlinks stored as
 * symlinks (Lambda's unzip restores them), so the same layer always gives the same bytes.
 */
export async function writeLayerZip(
  layer: FileTree,
  dest: string,
  rule: ReplaceRule = outputRule({ kind: 'zip', what: 'the layer zip' }),
  deflated?: DeflatedCache,
): Promise<{ bytes: number; sha256: string }> {
  return writeAtomically(dest, (tmp) => writeZip(tmp, zipEntries(layer), { deflated }), rule);
}

/** The zip written under a temporary name beside `dest`, for the caller to commit. */
function stageLayerZip(layer: FileTree, dest: string, rule: ReplaceRule, reused: false): Promise<StagedWrite<{ bytes: number; sha256: string; reused: boolean }>> {
  return stageAtomically(dest, async (tmp) => ({ ...(await writeZip(tmp, zipEntries(layer))), reused }), rule);
}

function zipEntries(layer: FileTree): ZipEntry[] {
  return archiveEntries(layer).map(({ name, entry }) =>
    entry.kind === 'dir'
      ? { kind: 'dir', name, mode: entry.mode }
      : entry.kind === 'symlink'
        ? { kind: 'symlink', name, target: entry.target }
        : { kind: 'file', name, mode: entry.mode, size: entry.size, content: entry.content },
  );
}
