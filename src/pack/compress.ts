import { droppedLine, JsonStore } from '../cache/json-store.js';
import type { ContentStore } from '../cache/content-store.js';
import { FIXED_DATE } from '../emit/archive-entries.js';
import type { Runner } from '../runner/types.js';
import { treeTarStream, type TarMember } from '../tree/tar.js';
import { sortedEntries, type Content } from '../tree/types.js';
import { extractTar } from '../stage/extract.js';
import { shellTemplate } from '../util/template.js';
import { UserError } from '../util/errors.js';
import { ProgressMeter, type ProgressState } from '../util/progress.js';
import { PACK_WINDOW_LOG, type PackedTree } from './assemble.js';
import { plural } from '../util/plural.js';
import { LAYER_ROOT } from '../format/lambda.js';

const compressTemplate = shellTemplate(new URL('./compress.sh', import.meta.url));

/** The steps of compressing in the build container (compress.sh), each run by its name as $1. */
export function compressScript(work: string, level: number): string {
  return compressTemplate({ WORK: work, LEVEL: level, WINDOW_LOG: PACK_WINDOW_LOG });
}

/** schema/cache-pack.schema.json: a compressed tree, by the digest of what it holds. */
interface CachedPack {
  sha256: string;
  bytes: number;
  /** The unpack measured when it was made, in milliseconds: zstd -d | tar -x on the build machine. */
  unpackMs: number;
}

/** Where compressing happens and what it reports to. */
export interface CompressContext {
  /** The build container (or this machine with --local), started only when needed. */
  runner: () => Promise<Runner>;
  store: ContentStore;
  /** Records of compressed trees (cache/paths.ts `packs`). */
  cacheDir: string;
  step: (line: string) => void;
  warn: (line: string) => void;
  progress?: (state: ProgressState, final: boolean) => void;
}

export interface CompressedTree {
  content: Content;
  bytes: number;
  unpackMs: number;
  reused: boolean;
}

/**
 * Compresses the tree with the target's own GNU tar and zstd, in the build container (Node has no
 * zstd before 22.15, and the build image is where the target's tools are), then unpacks it there
 * once, timed: the first-run unpack time the report gives, measured on this machine. Archives are
 * cached by the tree's digest: a rebuild of an unchanged layer does not compress again.
 */
export async function compressTree(opts: CompressContext & { packed: PackedTree; level: number }): Promise<CompressedTree> {
  const { packed, store, level } = opts;
  const key = `${packed.digest}-zstd${level}-long${PACK_WINDOW_LOG}-sized`;
  const records = new JsonStore<CachedPack>(opts.cacheDir, 'cache-pack');
  const found = records.get(key);
  if (found && 'damaged' in found) opts.warn(droppedLine(`the record of the cached packed tree (${found.file})`, found.damaged, 'compressing again'));
  else if (found) {
    const c = store.get(found.value.sha256, found.value.bytes);
    if (!('missing' in c) && !('damaged' in c)) return { content: c, bytes: found.value.bytes, unpackMs: found.value.unpackMs, reused: true };
    if ('damaged' in c) {
      opts.warn(droppedLine('the cached packed tree', c.damaged, 'compressing again'));
      store.drop(found.value.sha256);
    }
  }

  const runner = await opts.runner();
  const work = `/var/tmp/yumda-pack-${packed.digest.slice(0, 16)}`;
  const script = compressScript(work, level);
  const sh = async (step: 'prepare' | 'compress' | 'unpack' | 'clean', what: string, onStderrLine?: (line: string) => void) => {
    const r = await runner.exec(['/bin/sh', '-c', script, 'sh', step], onStderrLine ? { onStderrLine } : {});
    if (r.exitCode !== 0) {
      const line = (r.stderr || r.stdout).trim().split('\n').pop() ?? '';
      throw new UserError(`packing the layer failed while ${what}: ${line || `exit ${r.exitCode}`}`, {
        hint: /zstd: (not found|No such)|command not found/.test(r.stderr)
          ? 'the build image needs zstd: rebuild it (yumda builds it from images/, which installs zstd)'
          : undefined,
      });
    }
    return r.stdout;
  };
  try {
    await sh('prepare', 'preparing (are tar and zstd in the build image?)');
    opts.step(`copying ${plural(packed.files, 'file')} into the build container to compress`);
    const members: TarMember[] = sortedEntries(packed.tree.values()).map((entry) => ({ name: entry.path.slice(LAYER_ROOT.length + 1), entry }));
    await runner.putArchive(`${work}/tree`, treeTarStream(members, FIXED_DATE));
    opts.step(`compressing the tree with zstd -${level} --long=${PACK_WINDOW_LOG}${level > 15 ? ' (minutes for hundreds of MB)' : ''}`);
    const entries = packed.tree.size;
    const meter = opts.progress ? new ProgressMeter({ what: 'compressing', bytesTotal: packed.contentBytes + entries * 1024 }, opts.progress) : undefined;
    await sh('compress', 'compressing', (line) => {
      const m = /^tar: (\d+) \(/.exec(line);
      if (m) meter?.setBytes(Number(m[1]));
    });
    meter?.finish();
    opts.step('unpacking it once, timed, as a first call on Lambda would');
    const out = await sh('unpack', 'unpacking to measure');
    const measured = Math.round(Number(out.trim().split('\n').pop()));
    const ms = Number.isFinite(measured) && measured > 0 ? measured : 0;
    await sh('clean', 'cleaning up');
    const { trees } = await extractTar(await runner.getArchive(`${work}/tree.tar.zst`), store, (name) =>
      name === 'tree.tar.zst' ? { tree: 'pack', path: '/tree.tar.zst' } : undefined,
    );
    const got = trees.get('pack')?.get('/tree.tar.zst');
    if (got?.kind !== 'file' || got.content.kind !== 'file' || !got.content.sha256) throw new UserError('packing the layer failed: the build container gave no tree.tar.zst');
    records.put(key, { sha256: got.content.sha256, bytes: got.size, unpackMs: ms });
    return { content: got.content, bytes: got.size, unpackMs: ms, reused: false };
  } finally {
    await runner.exec(['rm', '-rf', work]).catch(() => undefined);
  }
}
