#!/bin/sh
# A packed layer's first and second call in one execution environment, timed in milliseconds:
# the exec wrapper unpacks the tree (as a launcher does), then finds it ready.
s=$(date +%s%N); __EXEC_WRAPPER__ true || exit $?; m=$(date +%s%N); __EXEC_WRAPPER__ true || exit $?; e=$(date +%s%N); echo "first $(( (m - s) / 1000000 )) second $(( (e - m) / 1000000 ))"
