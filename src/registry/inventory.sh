#!/bin/sh
# What a runtime image has (refresh.ts parses it): its packages (tab-separated), its library
# file names, where each library file really is, and its shell.
set -e
library_dirs='/lib /lib64 /usr/lib /usr/lib64 /var/lang/lib /var/runtime/lib'
echo "##packages"
#if DEB
dpkg-query -W -f '${Package}\t${Version}\t${Architecture}\t${Source}\t${Multi-Arch}\t${Provides}\n'
#else
# full provides with versions (libz.so.1(ZLIB_1.2.9)(64bit), zlib = 1.2.11-33): they decide version skew
rpm -qa --qf '%{NAME}\t%|EPOCH?{%{EPOCH}:}:{}|%{VERSION}-%{RELEASE}\t%{ARCH}\t%{SOURCERPM}\t\t[%{PROVIDENEVRS}|]\n'
#end
echo "##libraries"
for d in $library_dirs; do [ -d "$d" ] && find "$d" -maxdepth 2 \( -type f -o -type l \) -name '*.so*' -printf '%f\n'; done | sort -u
# where each library file really is: the C and C++ runtime's are read for their symbol versions
echo "##paths"
for d in $library_dirs; do [ -d "$d" ] && find "$d" -maxdepth 2 \( -type f -o -type l \) -name '*.so*'; done | while read -r f; do printf '%s\t%s\n' "${f##*/}" "$(readlink -f "$f")"; done | sort -u
echo "##shell"
for s in /bin/bash /usr/bin/bash /bin/sh /usr/bin/sh; do [ -x "$s" ] && { echo "$s"; break; }; done
