#!/bin/sh
# Entry point of the yumda image (images/yumda/*.Dockerfile). The container is the build machine:
# `install` runs the package manager in it (--local), and since the container is thrown away,
# packages may be installed on it so their maintainer scripts run (--disposable). The image's
# target is the default. Files the command writes under /out (the mounted directory) are given to
# the owner of /out, so they are not root's on the host; apt needs root, so the command runs as root.
set -eu

[ $# -gt 0 ] || set -- --help
if [ "$1" = install ]; then
  dockerfile='' has_target=''
  for a in "$@"; do
    case "$a" in
      --dockerfile) dockerfile=1 ;;
      -t | --target | --target=*) has_target=1 ;;
    esac
  done
  [ -n "$has_target" ] || set -- "$@" --target "$YUMDA_IMAGE_TARGET"
  [ -n "$dockerfile" ] || set -- "$@" --local --disposable
fi

stamp=$(mktemp)
status=0
yumda "$@" || status=$?
owner=$(stat -c %u:%g /out 2>/dev/null || echo 0:0)
if [ "$owner" != 0:0 ]; then
  find /out -xdev -cnewer "$stamp" -user 0 -exec chown -h "$owner" {} + 2>/dev/null || true
fi
rm -f "$stamp"
exit "$status"
