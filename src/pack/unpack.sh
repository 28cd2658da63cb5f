# shellcheck shell=bash
_y_dir=__DIR__
_y_name=__NAME__
# The tree was relocated for __PARENT__: its top-level directories are reached as __PARENT__/<name>.
_y_links=(__LINKS__)

# The tree is unpacked and linked: one stat per name, and nothing else runs.
_y_ready() {
  [[ -e $_y_dir/__UNPACKED_MARKER__ ]] || return 1
  local n
  for n in "${_y_links[@]}"; do [[ __PARENT__/$n -ef $_y_dir/$n ]] || return 1; done
}

# Says what went wrong in one line; with the lock held, leaves nothing behind.
_y_fail() {
  if ((_y_held)); then
    _y_remove "$_y_part"
    rm -rf -- "$_y_lock" 2>/dev/null
  fi
  printf 'yumda: %s: %s\n' "$_y_name" "$1" >&2
  exit 1
}

# The start time of process $1: with its pid it names one process for good.
_y_start() {
  local s
  read -r s 2>/dev/null <"/proc/$1/stat" || return 1
  s=${s##*') '}
  local -a f
  read -r -a f <<<"$s" # split on spaces, never globbed
  printf '%s\n' "${f[19]}"
}

_y_alive() {
  [[ -n $2 && $(_y_start "$1") == "$2" ]]
}

# What is at the lock's name, never following a link: 0 a lock whose owner runs (its pid in
# _y_pid), 1 a lock to break (its owner is gone, or it holds only a lock's files and no readable
# owner: an owner killed while removing it), 2 something that is no lock (_y_what says what),
# 3 nothing (the lock went away meanwhile).
_y_lock_state() {
  local f pid start rest
  if [[ -L $_y_lock ]]; then _y_what='a symbolic link'; return 2; fi
  if [[ ! -e $_y_lock ]]; then return 3; fi
  if [[ ! -d $_y_lock ]]; then _y_what='not a directory'; return 2; fi
  for f in "$_y_lock"/* "$_y_lock"/.[!.]* "$_y_lock"/..?*; do
    [[ -e $f || -L $f ]] || continue
    case ${f##*/} in owner | err | unpack | status) ;; *)
      _y_what='a directory holding other files than a lock does'
      return 2
      ;;
    esac
  done
  [[ -f $_y_lock/owner && ! -L $_y_lock/owner ]] || return 1
  read -r -t 1 -n 64 pid start rest 2>/dev/null <"$_y_lock/owner" || return 1
  [[ $pid =~ ^[0-9]+$ && $start =~ ^[0-9]+$ && -z $rest ]] || return 1
  _y_pid=$pid
  _y_alive "$pid" "$start" || return 1
}

# Ends the unpack a dead owner left running (its process group, recorded in the lock), then
# moves the lock aside and removes it. A rename never follows a link, and rm -rf removes a link,
# not what it names.
_y_break_lock() {
  local pgid start
  if [[ -f $_y_lock/unpack && ! -L $_y_lock/unpack ]] && read -r -t 1 -n 64 pgid start 2>/dev/null <"$_y_lock/unpack" &&
    [[ $pgid =~ ^[0-9]+$ ]] && _y_alive "$pgid" "$start"; then
    kill -KILL -- "-$pgid" 2>/dev/null
  fi
  if mv -T -- "$_y_lock" "$_y_dir.dead.$_y_me" 2>/dev/null; then _y_remove "$_y_dir.dead.$_y_me"; else sleep 0.05; fi
}

# Removes a directory quietly. A killed unpack's tar may still be writing into it for an instant
# (rm then says "Directory not empty"): one more try, and what is left goes at the next sweep.
_y_remove() {
  rm -rf -- "$1" 2>/dev/null || { sleep 0.2; rm -rf -- "$1" 2>/dev/null; } || true
}

# Returns 1 when the tree appeared meanwhile (another call unpacked it). Waits for a live owner
# at most __WAIT_SECONDS__ s (long enough to unpack the tree at __WAIT_RATE__ MiB/s).
_y_take_lock() {
  local mine=$_y_dir.lock.$_y_me e deadline=$((SECONDS + __WAIT_SECONDS__))
  while ! _y_ready; do
    ((SECONDS < deadline)) || _y_fail "gave up after __WAIT_SECONDS__ s waiting for process ${_y_pid:-?} to unpack __ARCHIVE__ into __DIR__ (its lock is $_y_lock)"
    rm -rf -- "$mine" 2>/dev/null
    e=$(mkdir "$mine" 2>&1 && printf '%s %s\n' $$ "$_y_me_start" 2>&1 >"$mine/owner") || { rm -rf -- "$mine" 2>/dev/null; _y_space; _y_fail "cannot write to __PARENT__: $e"; }
    if mv -T "$mine" "$_y_lock" 2>/dev/null; then
      # The owner before us may have finished between our look and our rename.
      _y_ready || { _y_held=1; return 0; }
      rm -rf -- "$_y_lock"
      return 1
    fi
    rm -rf -- "$mine" 2>/dev/null
    _y_lock_state
    case $? in
      0) sleep 0.05 ;;
      1) _y_break_lock ;;
      2) _y_fail "$_y_lock is in the way: it is $_y_what, not a lock this layer's launchers take; remove it" ;;
    esac
  done
  return 1
}

# Removes what unpacks that died left behind. Called with the lock held.
_y_sweep() {
  local d id
  for d in "$_y_dir".part.* "$_y_dir".lock.* "$_y_dir".dead.*; do
    [[ -e $d || -L $d ]] || continue
    id=${d#"$_y_dir".*.}
    _y_alive "${id%%.*}" "${id#*.}" || _y_remove "$d"
  done
  if [[ -e $_y_dir || -L $_y_dir ]]; then _y_remove "$_y_dir"; fi
}

# Stops with one line when __PARENT__ cannot hold the tree.
_y_space() {
  local out need=__UNPACKED_BYTES__ mib=1048576
  out=$(stat -f -c '%a %b %S' -- __PARENT__ 2>/dev/null) || return 0
  local -a f
  read -r -a f <<<"$out"
  local avail=$((f[0] * f[2])) total=$((f[1] * f[2]))
  ((avail >= need)) && return 0
  local want=$(((total - avail + need + mib - 1) / mib))
  ((want < __EPHEMERAL_STORAGE_DEFAULT_MB__)) && want=__EPHEMERAL_STORAGE_DEFAULT_MB__
  if ((want > __EPHEMERAL_STORAGE_MAX_MB__)); then
    _y_fail "__PARENT__ has $((avail / mib)) MB free, unpacking needs $(((need + mib - 1) / mib)) MB, and with what __PARENT__ already holds that is $want MB, more than Lambda's __EPHEMERAL_STORAGE_MAX_MB__ MB of ephemeral storage: free space in __PARENT__ first"
  fi
  _y_fail "__PARENT__ has $((avail / mib)) MB free, unpacking needs $(((need + mib - 1) / mib)) MB: set the function's ephemeral storage to at least $want MB"
}

# Links each top-level name to the tree, atomically (a link renamed into place). A name that is
# something else (the function's own file, another packed layer's tree) is left alone: one line.
_y_link() {
  local n l t
  for n in "${_y_links[@]}"; do
    l=__PARENT__/$n
    [[ $l -ef $_y_dir/$n ]] && continue
    if [[ -L $l ]]; then
      t=$(readlink -- "$l")
      if [[ $t != __DIR_NAME__/$n ]]; then
        [[ $t == yumda-pack-*/$n ]] && _y_fail "$l belongs to another packed layer (__PARENT__/${t%/*}): a function can use one packed yumda layer; pack all its packages into one layer"
        _y_fail "$l is a link to $t, not this layer's: the packed layer needs __LINK_PATHS__ (its tree was relocated for __PARENT__); remove it"
      fi
    elif [[ -e $l ]]; then
      _y_fail "$l exists and is not this layer's: the packed layer needs __LINK_PATHS__ (its tree was relocated for __PARENT__); remove it"
    fi
    ln -sfn -- __DIR_NAME__/"$n" "$l.yumda.$_y_me" 2>>"$_y_lock/err" && mv -T "$l.yumda.$_y_me" "$l" 2>>"$_y_lock/err" || _y_abort "cannot link $l"
  done
}

_y_abort() {
  local line
  read -r -t 1 -n 500 line 2>/dev/null <"$_y_lock/err"
  _y_fail "unpacking __ARCHIVE__ into __DIR__ failed: ${line:-$1}"
}

# zstd | tar in a process group of their own, recorded in the lock: a signal to the launcher
# ends them with it, a watchdog in the group ends them within 0.2 s of a launcher killed outright
# (SIGKILL runs no trap), and a caller that breaks the lock of a dead owner kills the group.
_y_run_unpack() {
  set -m
  (
    g=$BASHPID
    { while kill -0 $$ 2>/dev/null; do sleep 0.2; done; kill -KILL -- "-$g"; } </dev/null >/dev/null 2>&1 &
    w=$!
    LD_LIBRARY_PATH=__TOOLS_LIBRARY_PATH__ __ZSTD__ __ZSTD_ARGS__ -- __ARCHIVE__ </dev/null 2>>"$_y_lock/err" |
      LD_LIBRARY_PATH=__TOOLS_LIBRARY_PATH__ __TAR__ -xpf - --no-same-owner -C "$_y_part" >>"$_y_lock/err" 2>&1
    s="${PIPESTATUS[*]}"
    kill "$w" 2>/dev/null
    printf '%s\n' "$s" >"$_y_lock/status"
  ) &
  _y_job=$!
  set +m
  printf '%s %s\n' "$_y_job" "$(_y_start "$_y_job")" >"$_y_lock/unpack" 2>/dev/null
  trap '_y_stop 130' INT
  trap '_y_stop 143' TERM
  trap '_y_stop 129' HUP
  wait "$_y_job"
  trap - INT TERM HUP
}

# The launcher was told to stop while unpacking: the unpack stops too, and leaves nothing.
_y_stop() {
  kill -KILL -- "-$_y_job" 2>/dev/null
  wait "$_y_job" 2>/dev/null
  _y_remove "$_y_part"
  rm -rf -- "$_y_lock" 2>/dev/null
  exit "$1"
}

_y_unpack() {
  _y_me_start=$(_y_start $$) || _y_fail "cannot read /proc/$$/stat"
  _y_me=$$.$_y_me_start
  _y_lock=$_y_dir.lock
  _y_held=0
  _y_part=$_y_dir.part.$_y_me
#if MAKE_PARENT
  local e
  e=$(mkdir -p -- __PARENT__ 2>&1) || { _y_space; _y_fail "cannot create __PARENT__: $e"; }
#end
  _y_take_lock || return 0
  if [[ ! -e $_y_dir/__UNPACKED_MARKER__ ]]; then
    _y_sweep
    _y_space
    mkdir "$_y_part" 2>"$_y_lock/err" || _y_abort mkdir
    _y_run_unpack
    local a b
    read -r -t 1 -n 64 a b 2>/dev/null <"$_y_lock/status"
    [[ $a == 0 ]] || _y_abort "zstd exited with ${a:-a signal}"
    [[ $b == 0 ]] || _y_abort "tar exited with ${b:-a signal}"
    printf 'unpacked from %s\n' __ARCHIVE__ 2>>"$_y_lock/err" >"$_y_part/__UNPACKED_MARKER__" || _y_abort 'cannot write the marker'
    mv -T "$_y_part" "$_y_dir" 2>>"$_y_lock/err" || _y_abort 'cannot rename the tree into place'
  fi
  _y_link
  rm -rf "$_y_lock"
  _y_held=0
}

_y_ready || _y_unpack
#if ADD_LIBRARY_PATH
export LD_LIBRARY_PATH=${LD_LIBRARY_PATH:+$LD_LIBRARY_PATH:}__LIBRARY_PATH__
#end
__ENVIRONMENT__
