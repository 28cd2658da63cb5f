import path from 'node:path';
import type { TreeEntry } from '../tree/types.js';
import { UserError } from '../util/errors.js';
import { EPHEMERAL_STORAGE_MAX_MB } from '../format/lambda.js';

/**
 * A packed layer keeps its software as one compressed tar inside the layer, too big for Lambda's
 * 250 MB when unpacked, and a launcher at /opt/bin/<program> that unpacks it into /tmp on the
 * first call in an execution environment (src/pack/launcher.ts). This is what a launcher needs to
 * know about the layer; everything in it is decided when the layer is built.
 */

export const MIB = 1024 * 1024;

/**
 * zstd, for decompression speed at cold start (docs/packed-layers.md has the measurements).
 * `windowLog` is the `--long` window the archive was compressed with: above 27 (128 MiB) zstd
 * refuses to decompress unless told the same window, so it travels with the archive.
 */
export interface PackCompression {
  format: 'zstd';
  windowLog: number;
}

/**
 * What unpacks the archive. provided.al2023 has neither tar nor zstd, so the layer ships them
 * (from the target's own packages, relocated and closure-checked like everything else) outside
 * the archive; their libraries are found through `libraryPath` alone, so they neither need nor
 * disturb anything on Lambda's LD_LIBRARY_PATH.
 */
export interface UnpackTools {
  /** GNU tar; it only reads a plain tar on stdin, so it needs no decompressor of its own. */
  tar: string;
  zstd: string;
  libraryPath: string;
}

export interface PackedProgram {
  /** Its name in /opt/bin, where Lambda's PATH finds the launcher. */
  name: string;
  /** The real program inside the unpacked tree, relative to `unpackDir` (`bin/chromium`). */
  target: string;
  /**
   * What the program sees as argv[0]. `invoked`: the launcher's own path, as for a wrapper; a
   * multi-call program dispatches on it and messages name the command that was typed. `real`:
   * the unpacked path, for programs that find their files next to argv[0].
   */
  argv0: 'invoked' | 'real';
}

export interface PackedLayer {
  /** The compressed tar in the layer (`/opt/.yumda/pack/tree.tar.zst`). */
  archive: string;
  compression: PackCompression;
  /** Size of `archive`, for the launcher's header and the report. */
  packedBytes: number;
  /**
   * Where the tree lives once unpacked; the tree was relocated for this path. The launcher also
   * makes `<unpackDir>.lock`, `.part.*` and `.dead.*` beside it: the same file system, so the
   * final rename is atomic.
   */
  unpackDir: string;
  /**
   * The tree's top-level names (`bin`, `lib`, `share`). The tree was relocated for the directory
   * holding `unpackDir` (/tmp: `/tmp/` is as long as `/usr/`, so paths compiled into binaries are
   * rewritten in place), so once unpacked each is linked there: /tmp/lib → yumda-pack-…/lib.
   */
  links: string[];
  /**
   * The tree's library directories (/tmp/lib), appended to LD_LIBRARY_PATH before the program
   * runs, as Lambda appends /opt/lib: a library the tree ships that another of its libraries
   * needs is found whatever search path the program itself carries (DT_RUNPATH is not inherited).
   */
  libraryDirs: string[];
  /**
   * The layer's environment (what ENV_PATH lists, moved to /tmp): every launcher and the
   * exec wrapper set it unless the caller did. A script such as LibreOffice's `soffice` is no ELF
   * file a wrapper would be made for, yet its program needs FONTCONFIG_PATH.
   */
  env: Record<string, string>;
  /** The /tmp space the unpacked tree takes (`tmpBytes`), checked before unpacking. */
  unpackedBytes: number;
  tools: UnpackTools;
  programs: PackedProgram[];
}

/** The file in the unpacked tree whose presence says the unpack finished (it is written last). */
export const UNPACKED_MARKER = '.yumda-unpacked';

const BLOCK = 4096;
const blocks = (n: number): number => Math.ceil(n / BLOCK) * BLOCK;

/**
 * The /tmp space a tree takes once unpacked, as a file system counts it: every file rounded up to
 * 4 KiB blocks, a block per directory, and a block per symlink too long to live in its inode
 * (ext4 keeps targets under 60 bytes inline). Sizes alone would understate a tree of many small
 * files, and the launcher's free-space check would then pass a /tmp that fills midway.
 */
export function tmpBytes(entries: Iterable<TreeEntry>): number {
  let n = BLOCK; // the unpack directory itself
  for (const e of entries) {
    if (e.kind === 'file') n += blocks(e.size);
    else if (e.kind === 'dir') n += BLOCK;
    else if (Buffer.byteLength(e.target) >= 60) n += BLOCK;
  }
  return n;
}

/** MB of /tmp a tree needs, as a function's ephemeral storage is configured (whole MiB, rounded up). */
export function tmpMb(bytes: number): number {
  return Math.ceil(bytes / MIB);
}

function isNormalAbsolute(p: string): boolean {
  return p.startsWith('/') && path.posix.normalize(p) === p && !p.endsWith('/') && !p.includes('\0');
}

/** Paths the launcher also names in its messages, inside double quotes: no quoting, no expansion. */
const PLAIN_PATH = /^[\w@%+=:,./-]+$/;

/**
 * Checks a packed layer's description before a launcher is written from it: paths the launcher
 * would mis-handle (relative, `..`, not under /tmp) and a tree that no ephemeral storage setting
 * can hold are refused, with what to change.
 */
export function checkPackedLayer(layer: PackedLayer): void {
  const bad = (what: string, hint: string): never => {
    throw new UserError(`packed layer: ${what}`, { hint });
  };
  if (!isNormalAbsolute(layer.archive) || !layer.archive.startsWith('/opt/'))
    bad(`archive ${JSON.stringify(layer.archive)} is not a path in the layer`, 'the archive must sit under /opt, where Lambda unpacks layers');
  for (const [what, p] of [
    ['archive', layer.archive],
    ['unpack directory', layer.unpackDir],
  ] as const) {
    if (!PLAIN_PATH.test(p)) bad(`${what} ${JSON.stringify(p)} holds characters a shell would interpret`, 'use letters, digits and . _ - / in it');
  }
  if (!isNormalAbsolute(layer.unpackDir) || !layer.unpackDir.startsWith('/tmp/'))
    bad(`unpack directory ${JSON.stringify(layer.unpackDir)} is not under /tmp`, 'only /tmp is writable on Lambda: unpack into a directory under it');
  for (const d of layer.libraryDirs)
    if (!isNormalAbsolute(d) || !PLAIN_PATH.test(d) || d.includes(':'))
      bad(`library directory ${JSON.stringify(d)} cannot go on LD_LIBRARY_PATH`, 'give absolute paths without ":"');
  const seenLinks = new Set<string>();
  for (const n of layer.links) {
    if (!/^[\w@%+=:,.-]+$/.test(n) || n === '.' || n === '..' || seenLinks.has(n))
      bad(`top-level name ${JSON.stringify(n)} cannot be linked`, 'links are plain, distinct file names beside the unpack directory');
    if (n === path.posix.basename(layer.unpackDir) || n.startsWith(`${path.posix.basename(layer.unpackDir)}.`))
      bad(`top-level name ${JSON.stringify(n)} collides with the unpack directory`, 'rename the unpack directory');
    seenLinks.add(n);
  }
  for (const [k, p] of Object.entries(layer.tools))
    if (!isNormalAbsolute(p)) bad(`${k} ${JSON.stringify(p)} is not an absolute path`, 'the launcher runs the tools by absolute path, as Lambda has no tar or zstd on PATH');
  const { windowLog } = layer.compression;
  if (!Number.isInteger(windowLog) || windowLog < 10 || windowLog > 31)
    bad(`zstd window ${windowLog} is out of range`, 'zstd windows are 2^10 to 2^31 bytes (--long=10 to --long=31)');
  if (!Number.isSafeInteger(layer.unpackedBytes) || layer.unpackedBytes <= 0)
    bad(`unpacked size ${layer.unpackedBytes} is not a byte count`, 'compute it with tmpBytes() over the unpacked tree');
  if (tmpMb(layer.unpackedBytes) > EPHEMERAL_STORAGE_MAX_MB) {
    bad(
      `the unpacked tree needs ${tmpMb(layer.unpackedBytes)} MB of /tmp, more than the ${EPHEMERAL_STORAGE_MAX_MB} MB Lambda can give a function`,
      'ship fewer packages in this layer, or use a container image (up to 10 GB)',
    );
  }
  if (layer.programs.length === 0) bad('no programs to launch', 'a packed layer is used through its programs in /opt/bin; name at least one');
  const seen = new Set<string>();
  for (const p of layer.programs) {
    if (!/^[^/\0]+$/.test(p.name) || p.name === '.' || p.name === '..') bad(`program name ${JSON.stringify(p.name)} is not a file name`, 'a launcher is one file in /opt/bin');
    if (seen.has(p.name)) bad(`program ${p.name} is listed twice`, 'give each launcher one target');
    seen.add(p.name);
    const t = p.target;
    if (t.startsWith('/') || t.includes('\0') || path.posix.normalize(t) !== t || t === '.' || t.startsWith('../') || t.endsWith('/')) {
      bad(`program ${p.name}: target ${JSON.stringify(t)} is not a path inside the unpacked tree`, `give it relative to ${layer.unpackDir}, e.g. bin/${p.name}`);
    }
  }
}
