#!__BASH__
# shellcheck shell=bash
# Written by yumda: set AWS_LAMBDA_EXEC_WRAPPER=__EXEC_WRAPPER_PATH__ in the function's configuration.
# It unpacks __ARCHIVE__ into __DIR__ when the execution environment starts,
# sets what the layer's libraries need, then runs the runtime.
__UNPACK__
exec "$@"
