#!/bin/sh
# Long runs of the robustness suites (issue 10), beyond what `./mvnw verify` runs:
#   the chaos loop for 1,000 cycles (or $1), then the descriptor fuzzer for 30,000 calls.
# Environment:
#   FUZZ_CALLS=N      fuzz calls after the chaos run (0 skips the fuzzer; default 30000)
#   CHAOS_OPTS="..."  more -D options for the chaos run, e.g.
#                     -Dforkd.chaos.leaveAgentStopped=true  (one agent SIGSTOPped throughout)
#                     -Dforkd.chaos.agentKills=false        (spare the agents)
#                     -Dforkd.chaos.seed=S                  (replay a run)
#   MVN_FLAGS="-o"    extra Maven flags (e.g. offline)
#   LEAK_OPTS="..."   if set, also runs the limits suites with these options, e.g.
#                     "-Dforkd.leaks.live=4000 -Dforkd.leaks.spawns=50000"
# Exits non-zero on the first failing suite; each prints its figures (lines starting chaos:, fuzz:).
set -eu
cd "$(dirname "$0")/.."
CYCLES=${1:-1000}
FUZZ_CALLS=${FUZZ_CALLS:-30000}
run() {
    ./mvnw -B -ntp ${MVN_FLAGS:-} -pl server -am test -Dsurefire.failIfNoSpecifiedTests=false "$@"
}
run -Dgroups=chaos -Dforkd.chaos.cycles="$CYCLES" ${CHAOS_OPTS:-}
if [ "$FUZZ_CALLS" != 0 ]; then
    run -Dgroups=fuzz -Dforkd.fuzz.calls="$FUZZ_CALLS"
fi
if [ -n "${LEAK_OPTS:-}" ]; then
    run -Dgroups=limits $LEAK_OPTS
fi
