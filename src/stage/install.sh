#!/bin/sh
# The packages' real installation in a scratch root (stage/scripts.ts): the package manager's
# steps (prepare, install_packages, list_owned) come from its backend, rendered in below. What the
# installation changed is listed for copying out; the script always ends with 0, and says what
# went wrong in meta/.
set -u
cd __WORK__ && mkdir -p meta gen
# non-interactive, reproducible dates, a fixed locale
export DEBIAN_FRONTEND=noninteractive
export DEBCONF_NONINTERACTIVE_SEEN=true
export LC_ALL=C.UTF-8
export SOURCE_DATE_EPOCH=__SOURCE_DATE_EPOCH__
# TeX's formats record their date: with this, SOURCE_DATE_EPOCH's
export FORCE_SOURCE_DATE=1
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
__PACKAGE_MANAGER__
# Two steps, one call each: `prepare` (the scratch root made the runtime's) runs while the build
# is still downloading and unpacking; `install` once the package files are here.
case "${1:-all}" in
prepare | all) prepare ;;
esac
case "${1:-all}" in
install | all)
  # what the installation changes must be newer than the marker: the kernel stamps times from a
  # clock that ticks every few milliseconds, so a tenth of a second apart is enough (a whole second
  # was a tenth of a scripts step)
  touch marker && sleep 0.1
  install_packages
  # every path whose inode changed during the installation, except what is not the system's
  find / -xdev \( -path /proc -o -path /sys -o -path /dev -o -path /run -o -path /tmp -o -path /yumda -o -path /root -o -path /home -o -path /var/tmp -o -path /boot -o -path /mnt -o -path /media -o -path /srv \) -prune -o -cnewer __WORK__/marker -printf '%y\t%p\n' > __WORK__/meta/changed
  find / -maxdepth 1 -type l -printf '%p\t%l\n' > __WORK__/meta/aliases
  list_owned
  ;;
esac
exit 0
