#!/bin/sh
# Long runs of the robustness suites (issue 10), beyond what `./mvnw -B -ntp verify` runs:
#   the chaos loop for 1,000 cycles (or $1; the build runs 200), the descriptor fuzzer for 30,000
#   calls (the build runs 2,000), then the limits suites with 2,000 live children and 10,000
#   spawn+join+delete (the build runs 300 and 2,000).
# Environment:
#   FUZZ_CALLS=N      fuzz calls after the chaos run (0 skips the fuzzer; default 30000)
#   CHAOS_OPTS="..."  more -D options for the chaos run, e.g.
#                     -Dforkd.chaos.leaveAgentStopped=true  (one agent SIGSTOPped throughout)
#                     -Dforkd.chaos.agentKills=false        (spare the agents)
#                     -Dforkd.chaos.seed=S                  (replay a run)
#   LEAK_OPTS="..."   options for the limits suites (default
#                     "-Dforkd.leaks.live=2000 -Dforkd.leaks.spawns=10000"; "skip" skips them)
#   MVN_FLAGS="-o"    extra Maven flags (e.g. offline)
# Exits non-zero on the first failing suite; each prints its figures (lines starting chaos:, fuzz:,
# limits:, leaks:).
set -eu
cd "$(dirname "$0")/.."
CYCLES=${1:-1000}
FUZZ_CALLS=${FUZZ_CALLS:-30000}
LEAK_OPTS=${LEAK_OPTS:--Dforkd.leaks.live=2000 -Dforkd.leaks.spawns=10000}
run() {
    ./mvnw -B -ntp ${MVN_FLAGS:-} -pl server -am test -Dsurefire.failIfNoSpecifiedTests=false "$@"
}
run -Dgroups=chaos -Dforkd.chaos.cycles="$CYCLES" ${CHAOS_OPTS:-}
if [ "$FUZZ_CALLS" != 0 ]; then
    run -Dgroups=fuzz -Dforkd.fuzz.calls="$FUZZ_CALLS"
fi
if [ "$LEAK_OPTS" != skip ]; then
    # shellcheck disable=SC2086 # several -D options in one variable
    run -Dgroups=limits $LEAK_OPTS
fi
