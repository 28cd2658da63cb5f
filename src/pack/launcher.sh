#!__BASH__
# shellcheck shell=bash
# shellcheck disable=SC2154 # _y_dir is set by unpack.sh, rendered in below
# Written by yumda: the launcher of __PROGRAM__ in a packed layer. The software is in
# __ARCHIVE__ (__PACKED_SIZE__, zstd); the first call in an execution
# environment unpacks it into __DIR__ (__UNPACKED_SIZE__ of /tmp), then every
# call runs __RUNS__.
__UNPACK__
#if KEEP_ARGV0
# shellcheck disable=SC2093 # one side of the #if is rendered: nothing follows its exec
exec -a "$0" "$_y_dir"/__TARGET__ "$@"
#else
exec "$_y_dir"/__TARGET__ "$@"
#end
