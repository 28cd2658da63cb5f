#!/bin/sh
# ucf while a package's postinst runs at staging: `ucf [OPTIONS] SOURCE DESTINATION` installs a
# config file from a copy the package ships (LibreOffice's /etc/libreoffice/registry/main.xcd).
# The pair is recorded as "SOURCE DESTINATION"; staging copies it (stage/staging.ts).
src='' dest='' skip=''
for a; do
  if [ -n "$skip" ]; then skip=; continue; fi
  case "$a" in --state-dir|--sum-file|--src-dir) skip=1;; -*) ;; *) src=$dest; dest=$a;; esac
done
[ -n "$src" ] && echo "$src $dest" >> __META__/"$YUMDA_PACKAGE".ucf
exit 0
