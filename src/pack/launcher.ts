import path from 'node:path';
import { formatBytes } from '../util/format.js';
import { shellQuote } from '../util/shell.js';
import { envLines } from '../relocate/wrappers.js';
import { checkPackedLayer, EPHEMERAL_STORAGE_DEFAULT_MB, EPHEMERAL_STORAGE_MAX_MB, type PackedLayer, type PackedProgram, UNPACKED_MARKER } from './packed-layer.js';

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
 *   execution environment, pids restart and a bare pid could name a new, live process.
 * - Holding the lock: remove what dead unpacks left (`<dir>.part.*`, `.lock.*`, `.dead.*` whose
 *   owner is gone, a tree without its marker), check free space, unpack into `<dir>.part.<me>`,
 *   write the marker last, rename the tree onto `<dir>`. A killed unpack leaves no marker and no
 *   `<dir>`, only leftovers the next caller removes. Then link /tmp/<name> → <dir>/<name> for each
 *   top-level name, each link made under a private name and renamed into place. The lock only saves duplicate work: each
 *   unpack has its own directory and the rename decides, so even a broken lock stays correct.
 * - Short of space: one line with the ephemeral storage to configure, exit 1, nothing left.
 */
export function launcherScript(layer: PackedLayer, program: PackedProgram, bash = '/bin/bash'): string {
  const exec = program.argv0 === 'invoked' ? 'exec -a "$0"' : 'exec';
  const header = [
    `# Written by yumda: the launcher of ${program.name} in a packed layer. The software is in`,
    `# ${layer.archive} (${formatBytes(layer.packedBytes)}, zstd); the first call in an execution`,
    `# environment unpacks it into ${layer.unpackDir} (${formatBytes(layer.unpackedBytes)} of /tmp), then every`,
    `# call runs ${layer.unpackDir}/${program.target}.`,
  ];
  return unpackingScript(layer, program.name, header, bash) + `${exec} "$_y_dir"/${shellQuote(program.target)} "$@"\n`;
}

/**
 * /opt/.yumda/exec-wrapper of a packed layer, for the function's AWS_LAMBDA_EXEC_WRAPPER: Lambda
 * starts the runtime through it, so the tree is unpacked during init (which Lambda does not bill
 * against the first request's timeout) and code that loads the layer's libraries in-process or
 * spawns its programs by their /tmp paths finds them, with the environment they need.
 */
export function packedExecWrapperScript(layer: PackedLayer, bash = '/bin/bash'): string {
  const header = [
    `# Written by yumda: set AWS_LAMBDA_EXEC_WRAPPER=/opt/.yumda/exec-wrapper in the function's configuration.`,
    `# It unpacks ${layer.archive} into ${layer.unpackDir} when the execution environment starts,`,
    `# sets what the layer's libraries need, then runs the runtime.`,
  ];
  return `${unpackingScript(layer, 'exec-wrapper', header, bash)}exec "$@"\n`;
}

/** Everything of a launcher but its last line: unpack and link the tree unless it is ready. */
function unpackingScript(layer: PackedLayer, name: string, header: string[], bash: string): string {
  checkPackedLayer(layer);
  const q = shellQuote;
  const dir = layer.unpackDir;
  const parent = path.posix.dirname(dir);
  const { tar, zstd, libraryPath } = layer.tools;
  const zstdArgs = layer.compression.windowLog > 27 ? `-dcq --long=${layer.compression.windowLog}` : '-dcq';
  const links = layer.links.map(q).join(' ');
  return `#!${bash}
${header.join('\n')}
_y_dir=${q(dir)}
_y_name=${q(name)}
# The tree was relocated for ${parent}: its top-level directories are reached as ${parent}/<name>.
_y_links=(${links})

# The tree is unpacked and linked: one stat per name, and nothing else runs.
_y_ready() {
  [[ -e $_y_dir/${UNPACKED_MARKER} ]] || return 1
  local n
  for n in "\${_y_links[@]}"; do [[ ${q(parent)}/$n -ef $_y_dir/$n ]] || return 1; done
}

# Says what went wrong in one line; with the lock held, leaves nothing behind.
_y_fail() {
  ((_y_held)) && rm -rf "$_y_part" "$_y_lock"
  printf 'yumda: %s: %s\\n' "$_y_name" "$1" >&2
  exit 1
}

# The start time of process $1: with its pid it names one process for good.
_y_start() {
  local s
  read -r s 2>/dev/null <"/proc/$1/stat" || return 1
  s=\${s##*') '}
  local -a f=($s)
  printf '%s\\n' "\${f[19]}"
}

_y_alive() {
  [[ -n $2 && $(_y_start "$1") == "$2" ]]
}

# Returns 1 when the tree appeared meanwhile (another call unpacked it).
_y_take_lock() {
  local mine=$_y_dir.lock.$_y_me pid start e
  while ! _y_ready; do
    rm -rf "$mine"
    e=$(mkdir "$mine" 2>&1 && printf '%s %s\\n' $$ "$_y_me_start" 2>&1 >"$mine/owner") || { rm -rf "$mine"; _y_space; _y_fail "cannot write to ${parent}: $e"; }
    if mv -T "$mine" "$_y_lock" 2>/dev/null; then
      # The owner before us may have finished between our look and our rename.
      _y_ready || { _y_held=1; return 0; }
      rm -rf "$_y_lock"
      return 1
    fi
    rm -rf "$mine"
    if read -r pid start 2>/dev/null <"$_y_lock/owner" && ! _y_alive "$pid" "$start"; then
      # Its owner is gone (killed mid-unpack, or a timeout reset the environment).
      mv -T "$_y_lock" "$_y_dir.dead.$_y_me" 2>/dev/null && rm -rf "$_y_dir.dead.$_y_me"
    else
      sleep 0.05
    fi
  done
  return 1
}

# Removes what unpacks that died left behind. Called with the lock held.
_y_sweep() {
  local d id
  for d in "$_y_dir".part.* "$_y_dir".lock.* "$_y_dir".dead.*; do
    [[ -e $d ]] || continue
    id=\${d#"$_y_dir".*.}
    _y_alive "\${id%%.*}" "\${id#*.}" || rm -rf "$d"
  done
  if [[ -e $_y_dir ]]; then rm -rf "$_y_dir"; fi
}

# Stops with one line when ${parent} cannot hold the tree.
_y_space() {
  local out need=${layer.unpackedBytes} mib=1048576
  out=$(stat -f -c '%a %b %S' -- ${q(parent)} 2>/dev/null) || return 0
  local -a f=($out)
  local avail=$((f[0] * f[2])) total=$((f[1] * f[2]))
  ((avail >= need)) && return 0
  local want=$(((total - avail + need + mib - 1) / mib))
  ((want < ${EPHEMERAL_STORAGE_DEFAULT_MB})) && want=${EPHEMERAL_STORAGE_DEFAULT_MB}
  if ((want > ${EPHEMERAL_STORAGE_MAX_MB})); then
    _y_fail "${parent} has $((avail / mib)) MB free, unpacking needs $(((need + mib - 1) / mib)) MB, and with what ${parent} already holds that is $want MB, more than Lambda's ${EPHEMERAL_STORAGE_MAX_MB} MB of ephemeral storage: free space in ${parent} first"
  fi
  _y_fail "${parent} has $((avail / mib)) MB free, unpacking needs $(((need + mib - 1) / mib)) MB: set the function's ephemeral storage to at least $want MB"
}

# Links each top-level name to the tree, atomically (a link renamed into place). A name that is
# something else (the function's own file, another packed layer's tree) is left alone: one line.
_y_link() {
  local n l t
  for n in "\${_y_links[@]}"; do
    l=${q(parent)}/$n
    [[ $l -ef $_y_dir/$n ]] && continue
    if [[ -L $l ]]; then
      t=$(readlink -- "$l")
      if [[ $t != ${q(path.posix.basename(dir))}/$n ]]; then
        [[ $t == yumda-pack-*/$n ]] && _y_fail "$l belongs to another packed layer (${parent}/\${t%/*}): a function can use one packed yumda layer; pack all its packages into one layer"
        _y_fail "$l is a link to $t, not this layer's: the packed layer needs ${layer.links.map((n) => `${parent}/${n}`).join(', ')} (its tree was relocated for ${parent}); remove it"
      fi
    elif [[ -e $l ]]; then
      _y_fail "$l exists and is not this layer's: the packed layer needs ${layer.links.map((n) => `${parent}/${n}`).join(', ')} (its tree was relocated for ${parent}); remove it"
    fi
    ln -sfn -- ${q(path.posix.basename(dir))}/"$n" "$l.yumda.$_y_me" 2>>"$_y_lock/err" && mv -T "$l.yumda.$_y_me" "$l" 2>>"$_y_lock/err" || _y_abort "cannot link $l"
  done
}

_y_abort() {
  local line
  read -r line 2>/dev/null <"$_y_lock/err"
  _y_fail "unpacking ${layer.archive} into ${dir} failed: \${line:-$1}"
}

_y_unpack() {
  _y_me_start=$(_y_start $$) || _y_fail "cannot read /proc/$$/stat"
  _y_me=$$.$_y_me_start
  _y_lock=$_y_dir.lock
  _y_held=0
  _y_part=$_y_dir.part.$_y_me
${parent === '/tmp' ? '' : `  local e\n  e=$(mkdir -p -- ${q(parent)} 2>&1) || { _y_space; _y_fail "cannot create ${parent}: $e"; }\n`}  _y_take_lock || return 0
  if [[ ! -e $_y_dir/${UNPACKED_MARKER} ]]; then
    _y_sweep
    _y_space
    mkdir "$_y_part" 2>"$_y_lock/err" || _y_abort mkdir
    LD_LIBRARY_PATH=${q(libraryPath)} ${q(zstd)} ${zstdArgs} -- ${q(layer.archive)} </dev/null 2>>"$_y_lock/err" |
      LD_LIBRARY_PATH=${q(libraryPath)} ${q(tar)} -xpf - --no-same-owner -C "$_y_part" >>"$_y_lock/err" 2>&1
    local -a st=("\${PIPESTATUS[@]}")
    ((st[0] == 0)) || _y_abort "zstd exited with \${st[0]}"
    ((st[1] == 0)) || _y_abort "tar exited with \${st[1]}"
    printf 'unpacked from %s\\n' ${q(layer.archive)} 2>>"$_y_lock/err" >"$_y_part/${UNPACKED_MARKER}" || _y_abort 'cannot write the marker'
    mv -T "$_y_part" "$_y_dir" 2>>"$_y_lock/err" || _y_abort 'cannot rename the tree into place'
  fi
  _y_link
  rm -rf "$_y_lock"
  _y_held=0
}

_y_ready || _y_unpack
${layer.libraryDirs.length ? `export LD_LIBRARY_PATH=\${LD_LIBRARY_PATH:+$LD_LIBRARY_PATH:}${q(layer.libraryDirs.join(':'))}\n` : ''}${envLines(layer.env)
  .map((l) => `${l}\n`)
  .join('')}`;
}

/** Every launcher of a packed layer, by program name. */
export function launcherScripts(layer: PackedLayer, bash?: string): Map<string, string> {
  return new Map(layer.programs.map((p) => [p.name, launcherScript(layer, p, bash)]));
}
