#!/usr/bin/env bash
# Every base image the end-to-end tests use (debian 11, 12 and 13; 12 and 13 for arm64 too), made
# side by side: each is mostly waiting on the mirror, and the arm64 ones on emulated dpkg runs, so
# five at once take about as long as the slowest (one after another they took 10 of CI's minutes).
#
# One at a time on a machine: a lock is held while they are made, so a second caller (the e2e
# tests' setup, while .ci/run's early build is still going) waits for the first and then finds
# them current. Each image is skipped when current (ensure-base-images.sh keys it by its recipe).
#
#   ensure-all-base-images.sh [--quiet]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
quiet=false
[ "${1:-}" = --quiet ] && quiet=true

# a fixed path, not $TMPDIR: every caller on the machine must take the same lock; read-only, so a
# lock file another user made still serves
lock=/tmp/yumda-ensure-base-images.lock
[ -e "$lock" ] || : >"$lock"
exec 9<"$lock"
flock 9

logs=$(mktemp -d)
trap 'rm -rf "$logs"' EXIT
pids=()
names=()
for name in 12-amd64 13-amd64 11-amd64 12-arm64 13-arm64; do
  "$here/ensure-base-images.sh" --release "${name%-*}" --arch "${name#*-}" >"$logs/$name" 2>&1 &
  pids+=($!)
  names+=("$name")
done
failed=0
for i in "${!pids[@]}"; do
  if wait "${pids[$i]}"; then
    $quiet || sed "s/^/[${names[$i]}] /" "$logs/${names[$i]}"
  else
    failed=1
    sed "s/^/[${names[$i]}] /" "$logs/${names[$i]}" >&2
    echo "ensure-all-base-images: debian ${names[$i]} could not be made" >&2
  fi
done
exit "$failed"
