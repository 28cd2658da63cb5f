#!/bin/bash
# Downloads the planned packages (one a line in the args file), unpacks each without its
# maintainer scripts, keeps the .deb for the scripts' later run (stage/scripts.ts), and records
# the links and config copies its postinst would make.
mapfile -t ARGS < __ARGS_FILE__
set -euo pipefail
out=__STAGE_OUT__
archives=$out/__ARCHIVES__
mkdir -p /yumda/debs /yumda/ctl "$out/pkgs" "$out/meta" "$archives"
cd /yumda/debs
apt-get download -q "${ARGS[@]}" </dev/null
for f in /yumda/debs/*.deb; do
  pkg=$(dpkg-deb -f "$f" Package)
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
  echo "unpacked $pkg"
done
