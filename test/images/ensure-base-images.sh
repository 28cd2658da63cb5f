#!/usr/bin/env bash
# Builds the base images the tests need, because no registry can be reached here:
# debian:<release>-slim is stood in for by a debootstrap minbase of that release, imported with
# a build FROM scratch. Each image carries a label with the hash of this script, its suite and its
# architecture, so a rerun with the same recipe skips the debootstrap (~30 s; ~5 min for arm64,
# under emulation).
#
#   ensure-base-images.sh [--release 11|12|13] [--arch amd64|arm64]
#
# --release picks the Debian release (default 12): 11 is bullseye (glibc 2.31, a runtime older than
# AL2023's 2.34), 12 bookworm (glibc 2.36), 13 trixie (glibc 2.41). `--arch arm64` builds the arm64
# variant as debian:<release>-slim-arm64: the engine's image store holds one image per tag, so both
# variants cannot share a tag. yumda takes an image named `<base>-arm64` as the arm64 variant of
# `<base>` (src/docker/platform.ts). Its second debootstrap stage runs arm64 programs: qemu-aarch64
# must be registered (.ci/binfmt-arm64).
set -euo pipefail

arch=amd64
release=12
while [ $# -gt 0 ]; do
  case "$1" in
    --arch) arch=$2; shift 2 ;;
    --release) release=$2; shift 2 ;;
    *) echo "ensure-base-images: unknown argument '$1' (--release 11|12|13, --arch amd64|arm64)" >&2; exit 2 ;;
  esac
done
case "$release" in
  11) suite=bullseye ;;
  12) suite=bookworm ;;
  13) suite=trixie ;;
  *) echo "ensure-base-images: no Debian release '$release' (11, 12 or 13)" >&2; exit 2 ;;
esac
case "$arch" in amd64 | arm64) ;; *) echo "ensure-base-images: no architecture '$arch' (amd64 or arm64)" >&2; exit 2 ;; esac
mirror=${YUMDA_DEBIAN_MIRROR:-http://deb.debian.org/debian}
ref=debian:$release-slim
[ "$arch" = amd64 ] || ref=$ref-$arch
key=$(sha256sum "$0" | cut -c1-16)-$suite-$arch

have=$(docker image inspect --format '{{ index .Config.Labels "org.yumda.rootfs-key" }}' "$ref" 2>/dev/null || true)
if [ "$have" = "$key" ]; then
  echo "ensure-base-images: $ref is current ($key)"
  exit 0
fi

command -v debootstrap >/dev/null || { echo "ensure-base-images: debootstrap is not installed" >&2; exit 1; }
# a debootstrap older than the release has no script for it; every release since buster uses sid's
script=/usr/share/debootstrap/scripts/$suite
[ -e "$script" ] || script=/usr/share/debootstrap/scripts/sid
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
echo "ensure-base-images: debootstrap --arch=$arch --variant=minbase $suite"
debootstrap --arch="$arch" --variant=minbase "$suite" "$work/root" "$mirror" "$script" >"$work/log" 2>&1 || { tail -20 "$work/log" >&2; exit 1; }
# what debian:<release>-slim does too: no apt caches, no docs; its sources point at the real mirror
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
