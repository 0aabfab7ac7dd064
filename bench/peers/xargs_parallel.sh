#!/usr/bin/env bash
# Peer figures for forkd's per-task pool benchmark: N tiny tasks (`true ITEM`) on 2 workers.
#
#   xargs_parallel.sh xargs N      printf items | xargs -P2 -n1 true
#   xargs_parallel.sh parallel N   printf items | parallel -j2 true   (GNU parallel)
#
# Prints {"figure": "tasks_per_s", "value": ...}, timed around the whole pipeline.
set -euo pipefail
mode=$1 n=$2
start=$(date +%s%N)
case "$mode" in
  xargs) seq "$n" | xargs -P2 -n1 true ;;
  parallel) seq "$n" | parallel -j2 true ;;
  *) echo "unknown mode $mode" >&2; exit 2 ;;
esac
end=$(date +%s%N)
awk -v n="$n" -v ns="$((end - start))" 'BEGIN { printf "{\"figure\": \"tasks_per_s\", \"value\": %.1f}\n", n / (ns / 1e9) }'
