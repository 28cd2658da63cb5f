#!/usr/bin/env bash
# Builds the yumda image of a target from this checkout (images/yumda/):
#   scripts/build-image.sh TARGET [TAG] [docker build options...]
# TARGET: debian12 (FROM node:22-bookworm-slim), debian13 (node:24-trixie-slim) or al2023
# (amazonlinux:2023 with Node.js 22 from its repositories). TAG defaults to yumda/yumda:TARGET.
# The image installs this checkout's `npm pack` tarball, or YUMDA_TARBALL if set. A later
# `--build-arg NODE_IMAGE=...` (or BASE=... for al2023) replaces the base image.
set -euo pipefail
target=${1:?usage: scripts/build-image.sh debian12|debian13|al2023 [TAG] [docker build options...]}
tag=${2:-yumda/yumda:$target}
shift $(($# < 2 ? $# : 2))
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
case "$target" in
  debian12) file=debian.Dockerfile args=(--build-arg NODE_IMAGE=node:22-bookworm-slim --build-arg TARGET=debian12) ;;
  debian13) file=debian.Dockerfile args=(--build-arg NODE_IMAGE=node:24-trixie-slim --build-arg TARGET=debian13) ;;
  al2023) file=al2023.Dockerfile args=() ;;
  *) echo "yumda: error: no yumda image for target $target (debian12, debian13 or al2023)" >&2; exit 2 ;;
esac
ctx=$(mktemp -d "${TMPDIR:-/tmp}/yumda-image.XXXXXX")
trap 'rm -rf "$ctx"' EXIT
if [ -n "${YUMDA_TARBALL:-}" ]; then
  cp "$YUMDA_TARBALL" "$ctx/yumda.tgz"
else
  (cd "$root" && npm pack --silent --pack-destination "$ctx" >/dev/null)
  mv "$ctx"/yumda-*.tgz "$ctx/yumda.tgz"
fi
cp "$root/images/yumda/entrypoint.sh" "$ctx/"
docker build -f "$root/images/yumda/$file" -t "$tag" "${args[@]}" "$@" "$ctx"
