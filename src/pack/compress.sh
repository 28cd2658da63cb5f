#!/bin/sh
# A packed layer's tree compressed in the build container (compress.ts), one step a run, named by
# $1. The tree is put into $work/tree between prepare and compress.
work=__WORK__
# the tree's files in sorted order, owned by root: the same tar every time
tree_tar() {
  tar --null --no-recursion -T ../list --numeric-owner --owner=0 --group=0 "$@"
}
case "$1" in
  prepare)
    rm -rf "$work" && mkdir -p "$work/tree" "$work/unpacked" && command -v zstd >/dev/null && command -v tar >/dev/null
    ;;
  compress)
    # tar's size goes to zstd up front (a dry run of the same tar): the frame then records it,
    # and zstd shrinks the window to the tree, so a small tree unpacks in little memory on a
    # 128 MB function; a big one needs the whole window. tar reports every 10 MB it has written
    # into zstd: that is how far the compression got.
    cd "$work/tree" && find . -mindepth 1 -print0 | LC_ALL=C sort -z >../list && size=$(tree_tar -cf - | wc -c) &&
      tree_tar --checkpoint=1000 --checkpoint-action=echo=%{}T -cf - | zstd -q -__LEVEL__ --long=__WINDOW_LOG__ -T0 --stream-size="$size" -o ../tree.tar.zst
    ;;
  unpack)
    # once, timed in milliseconds, as a first call on Lambda would
    cd "$work" && rm -rf tree && s=$(date +%s%N) && zstd -dcq tree.tar.zst | tar -xf - -C unpacked && e=$(date +%s%N) && echo $(( (e - s) / 1000000 ))
    ;;
  clean)
    rm -rf "$work/unpacked"
    ;;
  *)
    echo "compress.sh: no step '$1'" >&2
    exit 2
    ;;
esac
