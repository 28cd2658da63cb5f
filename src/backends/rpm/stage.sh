#!/bin/bash
# Unpacks each downloaded package, without scriptlets, into its own tree, and keeps the package
# file (its scriptlets run later, in a scratch root: stage/scripts.ts). A %post scriptlet that
# registers alternatives runs in this throw-away container with `alternatives` replaced by a
# recorder (the shims), so the links it would add are known (relocate/alternatives.ts).
set -euo pipefail
out=__STAGE_OUT__
archives=$out/__ARCHIVES__
keys=__KEYS_DB__
# the lists are arrays, expanded as ${a[@]+"${a[@]}"}: under set -u, AL2's bash 4.2 takes an empty
# array for an unset variable
key_files=(__KEYS__)
signed=(__SIGNED__)
files=(__FILES__)
mkdir -p "$out/pkgs" "$out/meta" "$archives" "$keys"
# signatures: only for repositories that say gpgcheck, with the keys the target names
for key in ${key_files[@]+"${key_files[@]}"}; do rpmkeys --dbpath "$keys" --import "$key"; done
for f in ${signed[@]+"${signed[@]}"}; do
  checked=$(rpmkeys --dbpath "$keys" --checksig "$f" 2>&1) || { echo "signature check failed: $checked" >&2; exit 4; }
  # a package without a signature passes --checksig on its digests alone: require the signature
  # (rpm >= 4.14 prints "digests signatures OK", rpm 4.11 on AL2 "rsa sha1 (md5) pgp md5 OK")
  case "$checked" in *"NOT OK"*|*MISSING*|*NOKEY*|*NOTTRUSTED*) echo "signature check failed: $checked" >&2; exit 4;; *"signatures OK"*|*" pgp "*) ;; *) echo "signature check failed (not signed): $checked" >&2; exit 4;; esac
done
for f in ${files[@]+"${files[@]}"}; do
  pkg=$(rpm -qp --nosignature --qf '%{NAME}' "$f")
  rpm2cpio "$f" > /yumda/payload.cpio
  mkdir -p "$out/pkgs/$pkg" && touch "$out/meta/$pkg.alternatives"
  # /usr/lib/.build-id holds links for debuggers only: not unpacked
  (cd "$out/pkgs/$pkg" && cpio -idm --quiet --no-absolute-filenames -f './usr/lib/.build-id' './usr/lib/.build-id/*' < /yumda/payload.cpio)
  # the package file itself: its scriptlets run from it (stage/scripts.ts)
  ln -f "$f" "$archives/$pkg.rpm" 2>/dev/null || cp "$f" "$archives/$pkg.rpm"
  post=$(rpm -qp --nosignature --qf '%{POSTIN}' "$f" 2>/dev/null || true)
  case "$post" in *alternatives*) (cd / && PATH=__SHIMS__:$PATH YUMDA_PACKAGE="$pkg" timeout 60 sh -c "$post" 1 </dev/null >/dev/null 2>&1) || true;; esac
  echo "unpacked $pkg"
done
rm -f /yumda/payload.cpio
