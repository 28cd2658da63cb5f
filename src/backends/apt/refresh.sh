#!/bin/bash
# apt-get update, one at a time per metadata volume (builds may share it), and not while what the
# volume holds is fresh enough: then it says how old that is.
set -e
lists=__LISTS__
stamp=$lists/.yumda-updated
mkdir -p "$lists/partial"
exec 9>"$lists/.yumda-lock" && flock 9
#if REUSE_FRESH
if [ -n "$(find "$stamp" -mmin -__MAX_AGE_MINUTES__ 2>/dev/null)" ]; then echo "yumda: metadata fresh $(( $(date +%s) - $(stat -c %Y "$stamp") ))"; exit 0; fi
#end
apt-get update -q && touch "$stamp"
