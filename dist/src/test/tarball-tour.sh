#!/usr/bin/env bash
# tarball-tour.sh TARBALL: installs the distribution as a new user would and runs the README's tour
# with `forkd` from PATH (not ./forkd): unpack into a temporary directory, put its bin on PATH, run
# the commands and check what they print and how they exit, then stop the server the first command
# started. Also checks what ships beside the command: java -jar, completion, man pages, and the
# Kubernetes sidecar example (its YAML, and its command line run for real). Run by the dist module's
# integration-test phase; nothing is left running or on disk.
set -euo pipefail

TARBALL="$(readlink -f "$1")"
SRC="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
ROOT="$(cd "$SRC/../.." && pwd)"
tmp="$(mktemp -d /tmp/forkd-tour-XXXXXX)"
chmod 700 "$tmp"
servers=()
failures=0

# Every server run from this unpacked tree (its java's path is under $tmp, so only the tour's): one
# that came up after its client gave up on it was never recorded in servers, and is stopped too.
add_late_servers() {
  local cmdline pid known k
  [ -n "${home:-}" ] || return 0
  for cmdline in /proc/[0-9]*/cmdline; do
    pid="${cmdline#/proc/}" pid="${pid%/cmdline}"
    case "$(tr '\0' ' ' 2>/dev/null <"$cmdline")" in
      "$home/lib/runtime/bin/java "*dev.forkd.cli.Main\ serve*)
        known=""
        for k in "${servers[@]}"; do [ "$k" = "$pid" ] && known=1; done
        if [ -z "$known" ]; then
          echo "[tour] also stopping server $pid, which no command reported starting" >&2
          servers+=("$pid")
        fi ;;
    esac
  done
}

stop_servers() {
  local pid
  add_late_servers
  for pid in "${servers[@]}"; do
    kill -TERM "$pid" 2>/dev/null || true
  done
  for pid in "${servers[@]}"; do
    for _ in $(seq 1 300); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.1
    done
    if kill -0 "$pid" 2>/dev/null; then
      echo "[tour] FAIL: server $pid still running 30 s after SIGTERM" >&2
      kill -KILL "$pid" 2>/dev/null || true
      failures=$((failures + 1))
    fi
  done
  servers=()
}
trap 'stop_servers; rm -rf "$tmp"' EXIT

fail() {
  echo "[tour] FAIL: $*" >&2
  failures=$((failures + 1))
}

# expect CODE COMMAND...: runs COMMAND (with a time limit), keeps its stdout in $out, checks its exit code.
expect() {
  local want="$1" got=0
  shift
  out="$(timeout 60 "$@" 2>"$tmp/err")" || got=$?
  if [ "$got" != "$want" ]; then
    fail "'$*' exited $got, not $want; stdout: $out; stderr: $(cat "$tmp/err")"
  fi
}
contains() {
  case "$out" in *"$1"*) ;; *) fail "expected '$1' in: $out" ;; esac
}

mkdir -p "$tmp/opt"
tar -xzf "$TARBALL" -C "$tmp/opt"
home="$(echo "$tmp"/opt/forkd-*)"
[ -x "$home/bin/forkd" ] || { echo "[tour] FAIL: no bin/forkd in $TARBALL" >&2; exit 1; }

# A new user's shell: forkd on PATH, no JDK needed, nothing of forkd's in the environment; a private
# runtime directory so the tour's server is its own.
export PATH="$home/bin:/usr/local/bin:/usr/bin:/bin"
export XDG_RUNTIME_DIR="$tmp/run" XDG_STATE_HOME="$tmp/state"
mkdir -m 700 "$XDG_RUNTIME_DIR"
unset JAVA_HOME FORKD_ADDRESS FORKD_TOKEN FORKD_SESSION FORKD_CLI JAVA_TOOL_OPTIONS
cd "$tmp"

# The tour (README "A five-minute tour"). The first command starts the server through bin/forkd.
expect 3 forkd run -- sh -c 'echo hello; exit 3'
contains hello
started="$(cat "$tmp/err")"
pid="$(printf '%s\n' "$started" | sed -n 's/.*started a server at .* (pid \([0-9]*\),.*/\1/p')"
if [ -z "$pid" ]; then
  fail "the first command did not start a server: $started"
else
  servers+=("$pid")
  # Started exactly as `forkd serve` is: by this launcher, with the serve JVM options.
  cmdline="$(tr '\0' ' ' </proc/"$pid"/cmdline)"
  case "$cmdline" in *"$home/lib/runtime/bin/java"*-Xmx1g*dev.forkd.cli.Main\ serve*) ;; *) fail "autostarted server runs: $cmdline" ;; esac
fi
expect 137 forkd run -- sh -c 'kill -9 $$'
out="$(echo ping | timeout 60 forkd run -i -- cat)" || fail "run -i exited $?"
contains ping
expect 0 forkd spawn --name web -- sh -c 'while true; do date; sleep 1; done'
expect 0 forkd ps
contains web
expect 124 forkd wait --timeout 2s web
expect 0 forkd kill web
expect 143 forkd wait web
expect 0 forkd logs --from 10 web
expect 0 forkd restart web
expect 0 forkd rm -f web
expect 0 forkd status
contains "address    unix:$XDG_RUNTIME_DIR/forkd/forkd.sock"
contains SERVING
expect 0 forkd spawn --restart on-failure -- sh -c 'exit 1'
expect 0 forkd ps --all --json

# A child can call forkd with no set-up: the server puts its launcher last on the child's PATH
# (here the spawner's PATH does not have it) and in FORKD_CLI (here with a clean environment).
expect 0 forkd run -e PATH=/usr/bin:/bin -- sh -c 'forkd value set hits 41 && forkd value add hits'
contains 42
expect 0 forkd run --clean-env -- /bin/sh -c '"$FORKD_CLI" value get hits'
contains 42

# What ships beside the command.
expect 0 "$home/lib/runtime/bin/java" -jar "$home/lib/forkd/forkd-cli.jar" --help
contains "Usage: forkd"
expect 0 forkd --version
expect 0 bash -c "source '$home/share/bash-completion/completions/forkd' && complete -p forkd"
for page in forkd forkd-ps forkd-serve forkd-queue-put; do
  [ -s "$home/share/man/man1/$page.1" ] || fail "no man page $page.1"
done
if command -v man >/dev/null; then
  expect 0 man -l "$home/share/man/man1/forkd-ps.1"
  contains "forkd ps"
fi
[ -s "$home/share/systemd/user/forkd.service" ] || fail "no systemd user unit"
stop_servers

# The Kubernetes sidecar example: kubectl's client-side dry run needs an API server even so (it
# asks it which kinds exist); without one, check the YAML's own claims, then run its command line.
yaml="$ROOT/examples/kubernetes/forkd-sidecar.yaml"
if command -v kubectl >/dev/null && kubectl create --dry-run=client -o yaml -f "$yaml" >/dev/null 2>&1; then
  echo "[tour] kubectl create --dry-run=client accepted $yaml" >&2
else
  echo "[tour] kubectl create --dry-run=client needs a cluster here; checking $yaml with PyYAML" >&2
fi
sidecar=""
if ! /usr/bin/python3 -c 'import yaml' 2>/dev/null; then
  # Said loudly, not failed: a fresh machine may lack it (.ci/run installs python3-yaml).
  echo "[tour] WARNING: no PyYAML for /usr/bin/python3 (apt-get install python3-yaml): $yaml NOT checked" >&2
else
sidecar="$(/usr/bin/python3 - "$yaml" <<'PY'
import sys, yaml
pod = yaml.safe_load(open(sys.argv[1]))
assert pod["apiVersion"] == "v1" and pod["kind"] == "Pod", "a v1 Pod"
spec = pod["spec"]
side = [c for c in spec["initContainers"] if c["name"] == "forkd"][0]
assert side["restartPolicy"] == "Always", "a native sidecar"
app = spec["containers"][0]
cmd = side["command"]
listen = cmd[cmd.index("--listen") + 1]
health = int(cmd[cmd.index("--health-listen") + 1].rsplit(":", 1)[1])
env = {e["name"]: e["value"] for e in app["env"]}
assert env["FORKD_ADDRESS"] == listen, "the app dials the socket the sidecar listens on"
vol = [v["name"] for v in spec["volumes"] if "emptyDir" in v][0]
mounts = [m["mountPath"] for c in (side, app) for m in c["volumeMounts"] if m["name"] == vol]
assert len(mounts) == 2 and mounts[0] == mounts[1], "both containers mount the emptyDir at one path"
assert listen.startswith("unix:" + mounts[0] + "/"), "the socket is in the shared emptyDir"
for probe in ("startupProbe", "livenessProbe", "readinessProbe"):
    assert side[probe]["grpc"]["port"] == health, probe + " asks the health port"
print(mounts[0], listen[len("unix:" + mounts[0]):])
PY
)" || fail "the sidecar example's YAML"
fi
if [ -n "$sidecar" ]; then
  read -r mount socket_rel <<<"$sidecar"
  # An emptyDir is world-writable (1777); the server must still make its private directory in it.
  shared="$tmp/emptydir"
  mkdir -p "$shared" && chmod 1777 "$shared"
  port="$((20000 + RANDOM % 20000))"
  forkd serve --listen "unix:$shared$socket_rel" --health-listen "127.0.0.1:$port" >"$tmp/sidecar.log" 2>&1 &
  servers+=("$!")
  for _ in $(seq 1 600); do
    grep -q '^forkd listening on ' "$tmp/sidecar.log" && break
    sleep 0.1
  done
  FORKD_ADDRESS="unix:$shared$socket_rel" expect 0 forkd status --no-autostart
  contains SERVING
  (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null || fail "nothing listens on the health port $port: $(cat "$tmp/sidecar.log")"
  echo "[tour] the sidecar's command serves unix:$mount$socket_rel from an emptyDir-like directory" >&2
  stop_servers
fi

if [ "$failures" -ne 0 ]; then
  echo "[tour] $failures check(s) failed" >&2
  exit 1
fi
echo "[tour] the tour passed with forkd from $TARBALL" >&2
