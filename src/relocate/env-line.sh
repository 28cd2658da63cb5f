# shellcheck shell=sh
[ -n "${__NAME__:-}" ] || __NAME__=__VALUE__; export __NAME__
