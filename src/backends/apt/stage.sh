#!/bin/bash
# Downloads the planned packages (one a line in the args file) four at a time, each checked
# against the SHA-256 of the repository's signed index, and unpacks each (two at a time) as soon
# as it is in, while the others are still downloading: without its maintainer scripts, keeping the
# .deb for the scripts' later run (stage/scripts.ts), and recording the links and config copies
# its postinst would make.
mapfile -t ARGS < __ARGS_FILE__
set -euo pipefail
out=__STAGE_OUT__
archives=$out/__ARCHIVES__
mkdir -p /yumda/debs /yumda/ctl "$out/pkgs" "$out/meta" "$archives"
cd /yumda/debs

# apt-get download fetches one file after another from one mirror. apt itself says what it would
# fetch: 'URI' FILE SIZE SHA256:HEX, one a line. apt-helper fetches each through apt's own methods
# (its proxies, its authentication, file: and copy: URIs) and refuses a file whose sum differs.
apt-get download --print-uris -q "${ARGS[@]}" </dev/null >/yumda/uris
# shellcheck disable=SC2016
fetch='
  # a file: URI comes as a link to the repository file: the copy kept must be the file itself
  if /usr/lib/apt/apt-helper -q download-file "$1" "/yumda/debs/$2" ${3:+"$3"} </dev/null >/dev/null; then
    if [ -L "/yumda/debs/$2" ]; then cp --remove-destination "$(readlink -f "/yumda/debs/$2")" "/yumda/debs/$2"; fi
    echo "downloaded $2"
  else
    exit 1
  fi'

# Unpacking is the longer part (dpkg-deb -x decompresses each package): two at a time, as each
# package file comes in. The package's name is its file's (apt names it NAME_VERSION_ARCH.deb, and
# a name has no '_'): asking dpkg-deb for it cost a process per package, a third of the unpacking.
# shellcheck disable=SC2016
unpack='
  set -euo pipefail
  file=$1
  f=/yumda/debs/$file
  pkg=${file%%_*}
  mkdir -p "$out/pkgs/$pkg"
  dpkg-deb -x "$f" "$out/pkgs/$pkg"
  # the package file itself: its maintainer scripts run from it (stage/scripts.ts)
  ln -f "$f" "$archives/$pkg.deb" 2>/dev/null || cp "$f" "$archives/$pkg.deb"
  touch "$out/meta/$pkg.alternatives"
  dpkg-deb -e "$f" "/yumda/ctl/$pkg"
  # Maintainer scripts are not run, but some create commands through update-alternatives, and
  # some install config files with ucf. A postinst that calls either runs here, in this
  # throw-away container, against its own root, with both replaced by recorders (the shims):
  # only what they would add is kept.
  if [ -f "/yumda/ctl/$pkg/postinst" ] && grep -qE "update-alternatives|ucf " "/yumda/ctl/$pkg/postinst"; then
    (cd / && PATH=__SHIMS__:$PATH DPKG_MAINTSCRIPT_PACKAGE="$pkg" YUMDA_PACKAGE="$pkg" timeout 60 sh "/yumda/ctl/$pkg/postinst" configure "" </dev/null >/dev/null 2>&1) || true
  fi
  echo "unpacked $pkg"'
export out archives

# the largest first, so that no big file starts last; each line ends up as: URI FILE [SHA256:HEX].
# Each file is said on fd 3 as it is in (the progress), and passed on to be unpacked.
exec 3>&1
sed -n "s/^'\([^']*\)' \([^ ]*\) \([0-9]*\)\(.*\)$/\3 \1 \2\4/p" /yumda/uris |
  sort -k1,1nr | cut -d' ' -f2- |
  xargs -r -L1 -P4 bash -c "$fetch" fetch |
  while read -r _ file; do
    echo "downloaded $file" >&3
    echo "$file"
  done |
  xargs -r -L1 -P2 bash -c "$unpack" unpack
