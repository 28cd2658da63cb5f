#!__SHELL__
# shellcheck shell=sh # the runtime's shell, bash or sh
# Written by yumda: set AWS_LAMBDA_EXEC_WRAPPER=__EXEC_WRAPPER_PATH__ in the function's configuration
# so that code loading this layer's libraries in-process gets what __RECIPES__ need; then runs the runtime.
__ENVIRONMENT__
exec "$@"
