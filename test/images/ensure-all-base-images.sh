#!/usr/bin/env bash
# Every base image the end-to-end tests use (debian 11, 12 and 13; 12 and 13 for arm64 too), made
# side by side: each is mostly waiting on the mirror, and the arm64 ones on emulated dpkg runs, so
# five at once take about as long as the slowest (one after another they took 10 of CI's minutes).
#
# One at a time on a machine, per architecture: a lock is held while they are made, so a second
# caller (the e2e tests' setup, while .ci/run's early build is still going) waits for the first
# and then finds them current. Each image is skipped when current (ensure-base-images.sh keys it
# by its recipe). The amd64 ones take a minute or two, the arm64 ones (debootstrap's second
# stage under emulation) several: most end-to-end files need only amd64 and wait only for those
# (test/setup/base-images.ts); what runs arm64 waits for the arm64 ones where it starts
# (test/helpers/base-images.ts).
#
#   ensure-all-base-images.sh [--arch amd64|arm64] [--quiet]    (both architectures by default)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
quiet=false
archs=(amd64 arm64)
while [ $# -gt 0 ]; do
  case "$1" in
    --quiet) quiet=true; shift ;;
    --arch) archs=("$2"); shift 2 ;;
    *) echo "ensure-all-base-images: unknown argument '$1' (--arch amd64|arm64, --quiet)" >&2; exit 2 ;;
  esac
done

# fixed paths, not $TMPDIR: every caller on the machine must take the same locks; read-only, so a
# lock file another user made still serves; taken in one order (amd64, arm64), so two callers
# never wait on each other
for arch in "${archs[@]}"; do
  case "$arch" in amd64 | arm64) ;; *) echo "ensure-all-base-images: --arch amd64 or arm64, not '$arch'" >&2; exit 2 ;; esac
  lock=/tmp/yumda-ensure-base-images-$arch.lock
  [ -e "$lock" ] || : >"$lock"
  exec {fd}<"$lock"
  flock "$fd"
done

logs=$(mktemp -d)
trap 'rm -rf "$logs"' EXIT
pids=()
names=()
names_wanted=()
for arch in "${archs[@]}"; do
  case "$arch" in
    amd64) names_wanted+=(12-amd64 13-amd64 11-amd64) ;;
    arm64) names_wanted+=(12-arm64 13-arm64) ;;
  esac
done
for name in "${names_wanted[@]}"; do
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
