#!/usr/bin/env bash
# Builds the base images the tests need, because no registry can be reached here:
# debian:12-slim is stood in for by a debootstrap minbase of bookworm, imported with
# `docker import`. The image carries a label with the hash of this script, so a rerun
# with the same recipe skips the ~30 s debootstrap.
set -euo pipefail

mirror=${YUMDA_DEBIAN_MIRROR:-http://deb.debian.org/debian}
suite=bookworm
ref=debian:12-slim
key=$(sha256sum "$0" | cut -c1-16)-$suite

have=$(docker image inspect --format '{{ index .Config.Labels "org.yumda.rootfs-key" }}' "$ref" 2>/dev/null || true)
if [ "$have" = "$key" ]; then
  echo "ensure-base-images: $ref is current ($key)"
  exit 0
fi

command -v debootstrap >/dev/null || { echo "ensure-base-images: debootstrap is not installed" >&2; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
echo "ensure-base-images: debootstrap --variant=minbase $suite (about 30 s)"
debootstrap --variant=minbase "$suite" "$work/root" "$mirror" >"$work/log" 2>&1 || { tail -20 "$work/log" >&2; exit 1; }
# what debian:12-slim does too: no apt caches, no docs; its sources point at the real mirror
rm -rf "$work/root/var/lib/apt/lists/"* "$work/root/var/cache/apt/"*.bin "$work/root/var/cache/apt/archives/"*.deb
tar -C "$work/root" -c . | docker import \
  --change "LABEL org.yumda.rootfs-key=$key" \
  --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
  --change 'CMD ["bash"]' - "$ref" >/dev/null
echo "ensure-base-images: imported $ref ($key)"
