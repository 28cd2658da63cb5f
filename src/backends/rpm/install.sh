# shellcheck shell=sh
# rpm's steps of the installation in a scratch root (stage/install.sh).

prepare() {
#if PURGE
  extras=$(rpm -qa --qf '%{NAME}\n' | sort -u | grep -vxF -f runtime-packages || true)
#else
  extras=
#end
  if [ -n "$extras" ]; then rpm -e $extras > meta/purge.log 2>&1 || echo "not every package the build image has beyond the runtime could be removed" >> meta/notes; fi
}

# One rpm transaction runs %pre, %post, %posttrans and file triggers. Dependencies are not
# checked: the plan was resolved against the runtime's manifest, which the image may not match
# exactly.
install_packages() {
  # Debian's rpm (the test stand-in) wants --force-debian to install at all
  force=; rpm --help 2>/dev/null | grep -q -- --force-debian && force=--force-debian
  if ls pkgs/*.rpm >/dev/null 2>&1; then rpm -Uvh --nodeps --nosignature --replacepkgs $force "$PWD"/pkgs/*.rpm > meta/install.log 2>&1; echo $? > meta/status; fi
}

list_owned() {
  # the plan says what each package file is (pkgs/NAME.rpm): no rpm -qp per file
  names=$(cut -d' ' -f1 plan)
  rpm -ql $names > meta/owned 2>/dev/null
  rpm -V --nodeps $names > meta/modified 2>/dev/null
}
