import path from 'node:path';
import { formatBytes } from '../util/format.js';
import { raw, shellTemplate } from '../util/template.js';
import { envLines } from '../relocate/wrappers.js';
import { checkPackedLayer, type PackedLayer, type PackedProgram, UNPACKED_MARKER } from './packed-layer.js';
import { EPHEMERAL_STORAGE_DEFAULT_MB, EPHEMERAL_STORAGE_MAX_MB, EXEC_WRAPPER_PATH } from '../format/lambda.js';

const launcherTemplate = shellTemplate(new URL('./launcher.sh', import.meta.url));
const execWrapperTemplate = shellTemplate(new URL('./exec-wrapper.sh', import.meta.url));
const unpackTemplate = shellTemplate(new URL('./unpack.sh', import.meta.url));

/**
 * The launcher Lambda runs as /opt/bin/<program> for a packed layer: a bash script (every runtime
 * has bash; provided.al2023 has little else: coreutils-single, no tar, zstd or flock). It uses
 * bash builtins, coreutils (mkdir, mv -T, rm, stat -f, sleep) and the tools the layer ships.
 *
 * - Fast path: the tree's marker exists and each top-level name of the tree is linked beside it
 *   (the tree was relocated for /tmp, so /tmp/lib must be its lib): a few stats, then exec.
 * - Otherwise take a lock: a directory `<dir>.lock.<me>` holding its owner, renamed onto
 *   `<dir>.lock` (rename is atomic and fails when the lock exists, and the owner is already in it
 *   when it appears). Waiters poll until the marker appears, or break the lock when its owner is
 *   gone. The owner is pid *and* start time (/proc/PID/stat field 22): after a timeout resets an
 *   execution environment, pids restart and a bare pid could name a new, live process. A lock
 *   whose owner cannot be read is broken too; what is no lock at all (a file, a link, a directory
 *   of other files) is never removed: one line says to remove it. Every wait has a bound: a live
 *   owner is waited for as long as unpacking the tree may take (waitSeconds), then one line.
 * - Holding the lock: remove what dead unpacks left (`<dir>.part.*`, `.lock.*`, `.dead.*` whose
 *   owner is gone, a tree without its marker), check free space, unpack into `<dir>.part.<me>`
 *   (zstd | tar in a process group of their own, which dies with the launcher: _y_run_unpack),
 *   write the marker last, rename the tree onto `<dir>`. A killed unpack leaves no marker and no
 *   `<dir>`, only leftovers the next caller removes. Then link /tmp/<name> → <dir>/<name> for each
 *   top-level name, each link made under a private name and renamed into place. The lock only saves duplicate work: each
 *   unpack has its own directory and the rename decides, so even a broken lock stays correct.
 * - Short of space: one line with the ephemeral storage to configure, exit 1, nothing left.
 */
export function launcherScript(layer: PackedLayer, program: PackedProgram, bash = '/bin/bash'): string {
  return launcherTemplate({
    BASH: raw(bash),
    PROGRAM: raw(program.name),
    ARCHIVE: raw(layer.archive),
    PACKED_SIZE: raw(formatBytes(layer.packedBytes)),
    DIR: raw(layer.unpackDir),
    UNPACKED_SIZE: raw(formatBytes(layer.unpackedBytes)),
    RUNS: raw(`${layer.unpackDir}/${program.target}`),
    UNPACK: raw(unpackingScript(layer, program.name)),
    KEEP_ARGV0: program.argv0 === 'invoked',
    TARGET: program.target,
  });
}

/**
 * The exec wrapper (EXEC_WRAPPER_PATH) of a packed layer, for the function's AWS_LAMBDA_EXEC_WRAPPER: Lambda
 * starts the runtime through it, so the tree is unpacked during init (which Lambda does not bill
 * against the first request's timeout) and code that loads the layer's libraries in-process or
 * spawns its programs by their /tmp paths finds them, with the environment they need.
 */
export function packedExecWrapperScript(layer: PackedLayer, bash = '/bin/bash'): string {
  return execWrapperTemplate({
    BASH: raw(bash),
    EXEC_WRAPPER_PATH: raw(EXEC_WRAPPER_PATH),
    ARCHIVE: raw(layer.archive),
    DIR: raw(layer.unpackDir),
    UNPACK: raw(unpackingScript(layer, 'exec-wrapper')),
  });
}

/** The slowest unpack a waiting launcher allows for, in MiB/s: an owner slower than this is taken for stuck. */
export const WAIT_RATE_MIB_S = 10;

/** How long a launcher waits for another call's unpack before it gives up (at least a minute). */
export function waitSeconds(layer: Pick<PackedLayer, 'unpackedBytes'>): number {
  return Math.max(60, Math.ceil(layer.unpackedBytes / (WAIT_RATE_MIB_S * 1024 * 1024)));
}

/**
 * Everything of a launcher between its header and its last line (unpack.sh): unpack and link the
 * tree unless it is ready, then set the layer's environment. checkPackedLayer lets only
 * characters no shell interprets into the archive's and the unpack directory's paths (and the
 * link names), so these go in as they are, in words and inside the messages' double quotes alike.
 */
function unpackingScript(layer: PackedLayer, name: string): string {
  checkPackedLayer(layer);
  const dir = layer.unpackDir;
  const parent = path.posix.dirname(dir);
  const { tar, zstd, libraryPath } = layer.tools;
  return unpackTemplate({
    DIR: raw(dir),
    NAME: name,
    PARENT: raw(parent),
    DIR_NAME: raw(path.posix.basename(dir)),
    ARCHIVE: raw(layer.archive),
    LINKS: layer.links,
    LINK_PATHS: raw(layer.links.map((n) => `${parent}/${n}`).join(', ')),
    UNPACKED_MARKER,
    WAIT_SECONDS: waitSeconds(layer),
    WAIT_RATE: WAIT_RATE_MIB_S,
    UNPACKED_BYTES: layer.unpackedBytes,
    EPHEMERAL_STORAGE_DEFAULT_MB,
    EPHEMERAL_STORAGE_MAX_MB,
    TOOLS_LIBRARY_PATH: libraryPath,
    ZSTD: zstd,
    ZSTD_ARGS: layer.compression.windowLog > 27 ? ['-dcq', `--long=${layer.compression.windowLog}`] : ['-dcq'],
    TAR: tar,
    // /tmp is there on Lambda; a directory under it is made first
    MAKE_PARENT: parent !== '/tmp',
    ADD_LIBRARY_PATH: layer.libraryDirs.length > 0,
    LIBRARY_PATH: layer.libraryDirs.join(':'),
    ENVIRONMENT: raw(envLines(layer.env).join('\n')),
  });
}

/** Every launcher of a packed layer, by program name. */
export function launcherScripts(layer: PackedLayer, bash?: string): Map<string, string> {
  return new Map(layer.programs.map((p) => [p.name, launcherScript(layer, p, bash)]));
}
