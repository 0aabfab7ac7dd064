#!/bin/sh
# The long run of RestartChaosTest (issue 13's "done means"): the supervisor SIGKILLed $1 times (default
# 60; the build runs 4) under the mixed workload, each time restarted on the same state directory.
# Environment:
#   SEED=S          replay a run (its seed is printed on the first line starting "restart-chaos:")
#   MVN_FLAGS="-o"  extra Maven flags (e.g. offline)
# Prints one "restart-chaos: kill N" line per restart and the figures at the end; exits non-zero on
# the first problem.
set -eu
cd "$(dirname "$0")/.."
KILLS=${1:-60}
./mvnw -B -ntp ${MVN_FLAGS:-} -pl client-cli -am test -Dsurefire.failIfNoSpecifiedTests=false \
    -Dtest=RestartChaosTest -Dforkd.restartChaos.kills="$KILLS" ${SEED:+-Dforkd.restartChaos.seed="$SEED"}
