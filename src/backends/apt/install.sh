# shellcheck shell=sh
# dpkg's steps of the installation in a scratch root (stage/install.sh).

# The build image's packages beyond the runtime's are purged (dpkg refuses to purge what another
# package needs, so the base stays whole). What remains is listed: of the plan's package files,
# those the image does not have at the planned version are installed.
prepare() {
  # invoke-rc.d asks this before starting a service: none may start here
  printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d && chmod 755 /usr/sbin/policy-rc.d
#if PURGE
  extras=$(dpkg-query -W -f='${db:Status-Abbrev} ${Package}\n' | awk '$1 ~ /^.i/ {print $2}' | sort -u | grep -vxF -f runtime-packages || true)
#else
  extras=
#end
  if [ -n "$extras" ]; then dpkg --purge $extras > meta/purge.log 2>&1 || echo "not every package the build image has beyond the runtime could be removed" >> meta/notes; fi
  # one dpkg-query in all
  dpkg-query -W -f='${db:Status-Abbrev}${Package} ${Version}\n' | awk '$1 == "ii" {print $2, $3}' > meta/installed
}

# apt installs the package files in dependency order, running every maintainer script and
# trigger. Where it cannot (a dependency the runtime's manifest claims and the image lacks), dpkg
# installs them regardless of dependencies.
install_packages() {
  # the plan says what each package file is (pkgs/NAME.deb)
  debs=$(awk -v dir="$PWD/pkgs" 'NR == FNR { have[$0]; next } !($0 in have) { printf " %s/%s.deb", dir, $1 }' meta/installed plan)
  if [ -n "$debs" ]; then
    # no binary caches of apt's lists: a --disposable stage's own apt state stays as it was; no
    # fsync of every unpacked file (--force-unsafe-io): the root is thrown away after (11.4 s to
    # 10.4 s for ghostscript and imagemagick's 72 packages)
    apt-get install -y -q --no-install-recommends --allow-downgrades -o Dpkg::Use-Pty=0 -o APT::Sandbox::User=root -o Dir::Cache::pkgcache='' -o Dir::Cache::srcpkgcache='' \
      -o Dpkg::Options::=--force-unsafe-io -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold $debs > meta/install.log 2>&1
    status=$?
    if [ "$status" -ne 0 ] && ! grep -q "^Unpacking " meta/install.log; then
      echo "apt could not install the packages (exit $status): installing them with dpkg, regardless of dependencies" >> meta/notes
      dpkg -i --force-depends --force-unsafe-io --force-confdef --force-confold $debs >> meta/install.log 2>&1
      status=$?
    fi
    echo "$status" > meta/status
  fi
}

list_owned() {
  names=$(cut -d' ' -f1 plan)
  dpkg-query -L $names > meta/owned 2>/dev/null
  dpkg --verify $names > meta/modified 2>/dev/null
}
