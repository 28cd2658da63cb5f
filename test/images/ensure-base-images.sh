#!/usr/bin/env bash
# Builds the base images the tests need, because no registry can be reached here:
# debian:12-slim is stood in for by a debootstrap minbase of bookworm, imported with
# a build FROM scratch. Each image carries a label with the hash of this script and its architecture,
# so a rerun with the same recipe skips the debootstrap (~30 s; ~5 min for arm64, under emulation).
#
# `--arch arm64` builds the arm64 variant as debian:12-slim-arm64: the engine's image store holds
# one image per tag, so both variants cannot share debian:12-slim. yumda takes an image named
# `<base>-arm64` as the arm64 variant of `<base>` (src/docker/platform.ts). Its second
# debootstrap stage runs arm64 programs: qemu-aarch64 must be registered (.ci/binfmt-arm64).
set -euo pipefail

arch=amd64
if [ "${1:-}" = --arch ]; then arch=$2; fi
mirror=${YUMDA_DEBIAN_MIRROR:-http://deb.debian.org/debian}
suite=bookworm
ref=debian:12-slim
[ "$arch" = amd64 ] || ref=$ref-$arch
key=$(sha256sum "$0" | cut -c1-16)-$suite-$arch

have=$(docker image inspect --format '{{ index .Config.Labels "org.yumda.rootfs-key" }}' "$ref" 2>/dev/null || true)
if [ "$have" = "$key" ]; then
  echo "ensure-base-images: $ref is current ($key)"
  exit 0
fi

command -v debootstrap >/dev/null || { echo "ensure-base-images: debootstrap is not installed" >&2; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
echo "ensure-base-images: debootstrap --arch=$arch --variant=minbase $suite"
debootstrap --arch="$arch" --variant=minbase "$suite" "$work/root" "$mirror" >"$work/log" 2>&1 || { tail -20 "$work/log" >&2; exit 1; }
# what debian:12-slim does too: no apt caches, no docs; its sources point at the real mirror
rm -rf "$work/root/var/lib/apt/lists/"* "$work/root/var/cache/apt/"*.bin "$work/root/var/cache/apt/archives/"*.deb
# `docker import --platform` is ignored by this engine (the image would say amd64): a build FROM
# scratch for the platform records the architecture, and ADD keeps owners and modes of the tarball
tar -C "$work/root" -cf "$work/rootfs.tar" .
cat >"$work/Dockerfile" <<DOCKERFILE
FROM scratch
ADD rootfs.tar /
LABEL org.yumda.rootfs-key=$key
ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
CMD ["bash"]
DOCKERFILE
tar -C "$work" -c Dockerfile rootfs.tar | docker build -q --platform "linux/$arch" -t "$ref" - >/dev/null
echo "ensure-base-images: imported $ref ($key)"
