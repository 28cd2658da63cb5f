#!__SHELL__
# shellcheck shell=bash # the runtime's shell: bash keeps argv[0] (exec -a), sh cannot
# Written by yumda: sets what __RECIPES__ need at run time, then runs the real program.
__ENVIRONMENT__
#if BASH
# shellcheck disable=SC2093 # one side of the #if is rendered: nothing follows its exec
exec -a "$0" __REAL__ "$@"
#else
exec __REAL__ "$@"
#end
