#!/bin/bash
# apt-get update, one at a time per metadata volume (builds may share it), and not while what the
# volume holds is fresh enough: then it says how old that is.
set -e
lists=__LISTS__
stamp=$lists/.yumda-updated
mkdir -p "$lists/partial"
exec 9>"$lists/.yumda-lock" && flock 9
# what apt left of a binary cache it was writing when it was killed (it renames a whole one into place)
find "$lists" -maxdepth 1 -name '*.bin.??????' -mmin +10 -delete
#if REUSE_FRESH
if [ -n "$(find "$stamp" -mmin -__MAX_AGE_MINUTES__ 2>/dev/null)" ]; then echo "yumda: metadata fresh $(( $(date +%s) - $(stat -c %Y "$stamp") ))"; exit 0; fi
#end
# the binary caches of the old lists are of no use to anyone (apt would rebuild them): each
# runtime's pkgcache is made again by the first resolve that needs it
rm -f "$lists"/pkgcache-*.bin
apt-get update -q && touch "$stamp"
