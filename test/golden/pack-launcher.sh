#!/bin/bash
# Written by yumda: the launcher of chromium in a packed layer. The software is in
# /opt/.yumda/pack/tree.tar.zst (94.2 MiB, zstd); the first call in an execution
# environment unpacks it into /tmp/yumda-chromium (700.0 MiB of /tmp), then every
# call runs /tmp/yumda-chromium/bin/chromium.
_y_dir=/tmp/yumda-chromium
_y_name=chromium
# The tree was relocated for /tmp: its top-level directories are reached as /tmp/<name>.
_y_links=(bin lib share)

# The tree is unpacked and linked: one stat per name, and nothing else runs.
_y_ready() {
  [[ -e $_y_dir/.yumda-unpacked ]] || return 1
  local n
  for n in "${_y_links[@]}"; do [[ /tmp/$n -ef $_y_dir/$n ]] || return 1; done
}

# Says what went wrong in one line; with the lock held, leaves nothing behind.
_y_fail() {
  ((_y_held)) && rm -rf "$_y_part" "$_y_lock"
  printf 'yumda: %s: %s\n' "$_y_name" "$1" >&2
  exit 1
}

# The start time of process $1: with its pid it names one process for good.
_y_start() {
  local s
  read -r s 2>/dev/null <"/proc/$1/stat" || return 1
  s=${s##*') '}
  local -a f=($s)
  printf '%s\n' "${f[19]}"
}

_y_alive() {
  [[ -n $2 && $(_y_start "$1") == "$2" ]]
}

# Returns 1 when the tree appeared meanwhile (another call unpacked it).
_y_take_lock() {
  local mine=$_y_dir.lock.$_y_me pid start e
  while ! _y_ready; do
    rm -rf "$mine"
    e=$(mkdir "$mine" 2>&1 && printf '%s %s\n' $$ "$_y_me_start" 2>&1 >"$mine/owner") || { rm -rf "$mine"; _y_space; _y_fail "cannot write to /tmp: $e"; }
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
    id=${d#"$_y_dir".*.}
    _y_alive "${id%%.*}" "${id#*.}" || rm -rf "$d"
  done
  if [[ -e $_y_dir ]]; then rm -rf "$_y_dir"; fi
}

# Stops with one line when /tmp cannot hold the tree.
_y_space() {
  local out need=734003200 mib=1048576
  out=$(stat -f -c '%a %b %S' -- /tmp 2>/dev/null) || return 0
  local -a f=($out)
  local avail=$((f[0] * f[2])) total=$((f[1] * f[2]))
  ((avail >= need)) && return 0
  local want=$(((total - avail + need + mib - 1) / mib))
  ((want < 512)) && want=512
  if ((want > 10240)); then
    _y_fail "/tmp has $((avail / mib)) MB free, unpacking needs $(((need + mib - 1) / mib)) MB, and with what /tmp already holds that is $want MB, more than Lambda's 10240 MB of ephemeral storage: free space in /tmp first"
  fi
  _y_fail "/tmp has $((avail / mib)) MB free, unpacking needs $(((need + mib - 1) / mib)) MB: set the function's ephemeral storage to at least $want MB"
}

# Links each top-level name to the tree, atomically (a link renamed into place). A name that is
# something else (the function's own file, another packed layer's tree) is left alone: one line.
_y_link() {
  local n l t
  for n in "${_y_links[@]}"; do
    l=/tmp/$n
    [[ $l -ef $_y_dir/$n ]] && continue
    if [[ -L $l ]]; then
      t=$(readlink -- "$l")
      if [[ $t != yumda-chromium/$n ]]; then
        [[ $t == yumda-pack-*/$n ]] && _y_fail "$l belongs to another packed layer (/tmp/${t%/*}): a function can use one packed yumda layer; pack all its packages into one layer"
        _y_fail "$l is a link to $t, not this layer's: the packed layer needs /tmp/bin, /tmp/lib, /tmp/share (its tree was relocated for /tmp); remove it"
      fi
    elif [[ -e $l ]]; then
      _y_fail "$l exists and is not this layer's: the packed layer needs /tmp/bin, /tmp/lib, /tmp/share (its tree was relocated for /tmp); remove it"
    fi
    ln -sfn -- yumda-chromium/"$n" "$l.yumda.$_y_me" 2>>"$_y_lock/err" && mv -T "$l.yumda.$_y_me" "$l" 2>>"$_y_lock/err" || _y_abort "cannot link $l"
  done
}

_y_abort() {
  local line
  read -r line 2>/dev/null <"$_y_lock/err"
  _y_fail "unpacking /opt/.yumda/pack/tree.tar.zst into /tmp/yumda-chromium failed: ${line:-$1}"
}

_y_unpack() {
  _y_me_start=$(_y_start $$) || _y_fail "cannot read /proc/$$/stat"
  _y_me=$$.$_y_me_start
  _y_lock=$_y_dir.lock
  _y_held=0
  _y_part=$_y_dir.part.$_y_me
  _y_take_lock || return 0
  if [[ ! -e $_y_dir/.yumda-unpacked ]]; then
    _y_sweep
    _y_space
    mkdir "$_y_part" 2>"$_y_lock/err" || _y_abort mkdir
    LD_LIBRARY_PATH=/opt/.yumda/lib /opt/.yumda/bin/zstd -dcq -- /opt/.yumda/pack/tree.tar.zst </dev/null 2>>"$_y_lock/err" |
      LD_LIBRARY_PATH=/opt/.yumda/lib /opt/.yumda/bin/tar -xpf - --no-same-owner -C "$_y_part" >>"$_y_lock/err" 2>&1
    local -a st=("${PIPESTATUS[@]}")
    ((st[0] == 0)) || _y_abort "zstd exited with ${st[0]}"
    ((st[1] == 0)) || _y_abort "tar exited with ${st[1]}"
    printf 'unpacked from %s\n' /opt/.yumda/pack/tree.tar.zst 2>>"$_y_lock/err" >"$_y_part/.yumda-unpacked" || _y_abort 'cannot write the marker'
    mv -T "$_y_part" "$_y_dir" 2>>"$_y_lock/err" || _y_abort 'cannot rename the tree into place'
  fi
  _y_link
  rm -rf "$_y_lock"
  _y_held=0
}

_y_ready || _y_unpack
export LD_LIBRARY_PATH=${LD_LIBRARY_PATH:+$LD_LIBRARY_PATH:}/tmp/lib
exec -a "$0" "$_y_dir"/bin/chromium "$@"
