#!/usr/bin/env bash
# build-dist.sh TARGET_DIR VERSION: makes TARGET_DIR/forkd-VERSION-linux-x86_64.tar.gz from what
# Maven staged in TARGET_DIR/stage (lib/forkd: forkd-cli.jar, lib/*.jar, native/). Run by the
# dist module's `package` phase. Each step, and why:
#   0. picocli's classes rewritten as Java 8 class files, so the AOT cache can hold them (step 4);
#   1. lib/runtime: a JDK trimmed by jlink to the modules jdeps finds in the jars (and the few it
#      cannot see: the ones loaded by name), so the tarball needs no JDK on the machine;
#   2. bin/forkd: runs that runtime, checks nothing and builds nothing;
#   3. share/: bash completion and man pages written from the commands' own picocli model;
#      a systemd user unit for `forkd serve`, checked with systemd-analyze verify when it exists;
#   4. lib/forkd/forkd.aot: a JDK AOT cache (classes loaded and linked, profiles) trained on several
#      commands against a real server started from the staged tree; a short command's start-up is
#      most of its cost, and this cache is most of the cure; lib/forkd/direct.aot the same for the
#      commands that skip grpc's channel, and lib/forkd/ps.aot for a plain `ps` (no picocli);
#   5. the tarball, with one top directory forkd-VERSION.
set -euo pipefail

TARGET="$(cd "$1" && pwd)"
VERSION="$2"
SRC="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$SRC/../.." && pwd)"
NAME="forkd-$VERSION"
STAGE="$TARGET/stage"
OUT="$TARGET/$NAME"

say() { echo "[dist] $*" >&2; }
die() { echo "[dist] error: $*" >&2; exit 1; }

# A JDK 25+ with jlink: $JAVA_HOME, else the newest under /usr/lib/jvm (as ./forkd finds one).
jdk_major() {
  local v=""
  [ -r "$1/release" ] && v="$(sed -n 's/^JAVA_VERSION="\([^"]*\)".*/\1/p' "$1/release")"
  v="${v%%[.+-]*}"
  case "$v" in '' | *[!0-9]*) echo 0 ;; *) echo "$v" ;; esac
}
find_jdk() {
  if [ -n "${JAVA_HOME:-}" ] && [ -x "$JAVA_HOME/bin/jlink" ] && [ "$(jdk_major "$JAVA_HOME")" -ge 25 ]; then
    echo "$JAVA_HOME"; return
  fi
  local home best="" best_major=0 major
  for home in /usr/lib/jvm/*; do
    [ -x "$home/bin/jlink" ] || continue
    major="$(jdk_major "$home")"
    if [ "$major" -ge 25 ] && [ "$major" -gt "$best_major" ]; then best="$home" best_major="$major"; fi
  done
  [ -n "$best" ] || die "needs a JDK 25 or later with jlink: set JAVA_HOME to one"
  echo "$best"
}
JDK="$(find_jdk)"

[ -f "$STAGE/lib/forkd/forkd-cli.jar" ] || die "$STAGE/lib/forkd/forkd-cli.jar is missing (run through Maven: ./mvnw -pl dist -am package)"
rm -rf "$OUT"
mkdir -p "$OUT/bin" "$OUT/lib" "$OUT/share/man" "$OUT/share/bash-completion/completions" "$OUT/share/systemd/user" "$OUT/share/doc/forkd"
cp -R "$STAGE/lib/forkd" "$OUT/lib/forkd"
APP="$OUT/lib/forkd"

# 0. picocli's jar targets Java 5, and the AOT cache cannot hold classes that old: rewrite them as
# Java 8 class files (same bytecode, plus stack maps), so the cache holds them loaded and linked.
for jar in "$APP"/lib/picocli-*.jar; do
  "$JDK/bin/java" "$SRC/UpgradeClassFiles.java" "$jar"
done

# 1. The runtime.
say "jdeps + jlink ($JDK)"
# (Its warnings about packages split across jars go to the log; the list is its last line.)
modules="$("$JDK/bin/jdeps" --ignore-missing-deps --print-module-deps --multi-release 25 \
  "$APP/forkd-cli.jar" "$APP"/lib/*.jar 2>&1 | tail -n 1)"
case "$modules" in java.base*) ;; *) die "jdeps did not list modules: $modules" ;; esac
# Loaded by name, so jdeps cannot see them: DNS for TCP host names (JNDI's provider), and the
# charsets a user's locale may name.
modules="$modules,jdk.naming.dns,jdk.charsets"
"$JDK/bin/jlink" --add-modules "$modules" --output "$OUT/lib/runtime" \
  --strip-debug --no-man-pages --no-header-files
JAVA="$OUT/lib/runtime/bin/java"

# 2. bin/forkd, with the JVM options of `forkd serve` written in (the file ServerLauncher and ./forkd read).
serve_opts="$(grep -v '^[[:space:]]*\(#\|$\)' "$ROOT/client-cli/src/main/resources/dev/forkd/client/serve-jvm-options" | tr '\n' ' ')"
sed "s|@SERVE_JVM_OPTIONS@|$serve_opts|" "$SRC/bin/forkd" >"$OUT/bin/forkd"
chmod 755 "$OUT/bin/forkd"

# 3. Completion, man pages, the systemd unit, the examples.
"$JAVA" -cp "$APP/forkd-cli.jar" dev.forkd.cli.InstallDocs "$TARGET/docs"
cp "$TARGET/docs/bash-completion/forkd" "$OUT/share/bash-completion/completions/forkd"
cp -R "$TARGET/docs/man1" "$OUT/share/man/man1"
cp "$SRC/systemd/forkd.service" "$OUT/share/systemd/user/forkd.service"
cp -R "$ROOT/examples/kubernetes" "$OUT/share/doc/forkd/kubernetes"
if command -v systemd-analyze >/dev/null; then
  say "systemd-analyze verify forkd.service"
  # The unit runs %h/.local/bin/forkd (the symlink the README has an install make); check it against this tree through a copy whose
  # ExecStart points here (verify also checks that the program exists).
  unit_dir="$TARGET/unit-check"
  rm -rf "$unit_dir" && mkdir -m 700 -p "$unit_dir"
  sed "s|%h/.local/bin/forkd|$OUT/bin/forkd|" "$SRC/systemd/forkd.service" >"$unit_dir/forkd.service"
  # --user needs a runtime directory; MANPATH lets it find the man page the unit's Documentation= names.
  # It exits 0 on a bad setting it ignores, but says so: any line naming the unit fails the build.
  if ! verify="$(XDG_RUNTIME_DIR="$unit_dir" MANPATH="$OUT/share/man" systemd-analyze verify --user "$unit_dir/forkd.service" 2>&1)" \
      || printf '%s\n' "$verify" | grep -q 'forkd.service'; then
    printf '%s\n' "$verify" >&2
    die "systemd-analyze verify found fault with forkd.service"
  fi
else
  say "systemd-analyze not found: forkd.service not verified"
fi

# 4. The AOT cache: trained with the flags bin/forkd runs clients with, on the same jar path
# (the JVM refuses a cache made for other flags or other jars, and says nothing: -Xlog:aot=off).
say "training the AOT cache"
train_dir="$(mktemp -d /tmp/forkd-dist-XXXXXX)"
server_pid=""
cleanup() {
  if [ -n "$server_pid" ] && kill -0 "$server_pid" 2>/dev/null; then
    kill -TERM "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
  fi
  rm -rf "$train_dir"
}
trap cleanup EXIT
chmod 700 "$train_dir"
export XDG_RUNTIME_DIR="$train_dir" XDG_STATE_HOME="$train_dir"
unset FORKD_ADDRESS FORKD_TOKEN FORKD_SESSION
FORKD_CLI="$OUT/bin/forkd" "$OUT/bin/forkd" serve >"$train_dir/serve.log" 2>&1 &
server_pid=$!
socket="$train_dir/forkd/forkd.sock"
for _ in $(seq 1 600); do
  grep -q '^forkd listening on ' "$train_dir/serve.log" 2>/dev/null && break
  kill -0 "$server_pid" 2>/dev/null || { cat "$train_dir/serve.log" >&2; die "the training server exited"; }
  sleep 0.1
done
grep -q '^forkd listening on ' "$train_dir/serve.log" || { cat "$train_dir/serve.log" >&2; die "the training server did not start in 60 s"; }
CLIENT_OPTS=$(sed -n 's/^CLIENT_OPTS="\(.*\)"$/\1/p' "$OUT/bin/forkd")
[ -n "$CLIENT_OPTS" ] || die "bin/forkd has no CLIENT_OPTS line"
# shellcheck disable=SC2086 # CLIENT_OPTS is a list of words without spaces inside them
(cd "$train_dir" && FORKD_CLI="$OUT/bin/forkd" "$JAVA" $CLIENT_OPTS -Djava.library.path="$APP/native" \
  -XX:AOTCacheOutput="$APP/forkd.aot" -Xlog:aot=warning:file="$train_dir/aot.log" -Xlog:cds=off \
  -cp "$APP/forkd-cli.jar" dev.forkd.cli.AotTraining \
  "--help" "ps" "ps --all --json" "status" "run -- true" "spawn --name aot -- sleep 60" "ps -a" \
  "logs aot" "kill aot" "wait aot" "rm aot" "queue create aotq" "queue put aotq one" "queue get aotq" \
  "queue rm aotq" "value set aotv 1" "value add aotv" "value get aotv" "lock status aotl" "ps --help" \
  "nosuchcommand" >/dev/null 2>"$train_dir/training.log")
[ -s "$APP/forkd.aot" ] || { cat "$train_dir/training.log" "$train_dir/aot.log" >&2 || true; die "no AOT cache was written"; }
# 4b. lib/forkd/direct.aot: a second cache, trained only on the commands that call the server
# without grpc's channel (ClientCommand.callsDirectly; bin/forkd picks this cache for them). A cache
# loads every class it holds at each start, and forkd.aot holds grpc's and netty's.
# shellcheck disable=SC2086
(cd "$train_dir" && FORKD_CLI="$OUT/bin/forkd" "$JAVA" $CLIENT_OPTS -Djava.library.path="$APP/native" \
  -XX:AOTCacheOutput="$APP/direct.aot" -Xlog:aot=warning:file="$train_dir/aot-direct.log" -Xlog:cds=off \
  -cp "$APP/forkd-cli.jar" dev.forkd.cli.AotTraining \
  "ps" "ps --all --json" "ps -q" "status" "status --json" "get nosuch" "value set aotd 1" "value add aotd" \
  "value get aotd" "value get nosuch" "ps --help" >/dev/null 2>>"$train_dir/training.log")
[ -s "$APP/direct.aot" ] || { cat "$train_dir/training.log" "$train_dir/aot-direct.log" >&2 || true; die "no AOT cache was written for the direct commands"; }
# 4c. lib/forkd/ps.aot: a third, for a plain `ps` (PlainPs: no picocli; bin/forkd picks it), the
# command run most: without picocli's and the other commands' classes it maps a quarter less.
# shellcheck disable=SC2086
(cd "$train_dir" && FORKD_CLI="$OUT/bin/forkd" "$JAVA" $CLIENT_OPTS -Djava.library.path="$APP/native" \
  -XX:AOTCacheOutput="$APP/ps.aot" -Xlog:aot=warning:file="$train_dir/aot-ps.log" -Xlog:cds=off \
  -cp "$APP/forkd-cli.jar" dev.forkd.cli.AotTraining \
  "ps" "ps -q" "ps -a" "ps -a -q" >/dev/null 2>>"$train_dir/training.log")
[ -s "$APP/ps.aot" ] || { cat "$train_dir/training.log" "$train_dir/aot-ps.log" >&2 || true; die "no AOT cache was written for a plain ps"; }
# The JVM must take them for these jars, or every run would pay for nothing.
for cache in forkd.aot direct.aot ps.aot; do
  # shellcheck disable=SC2086
  "$JAVA" $CLIENT_OPTS -XX:AOTCache="$APP/$cache" -XX:AOTMode=on -Xlog:aot=off -Xlog:cds=off \
    -cp "$APP/forkd-cli.jar" dev.forkd.cli.Main --version >/dev/null || die "the JVM refuses the AOT cache $cache it just wrote"
  rm -f "$APP/$cache.config"
done
cleanup
trap - EXIT

# 5. The tarball.
say "writing $NAME-linux-x86_64.tar.gz"
tar -C "$TARGET" -czf "$TARGET/$NAME-linux-x86_64.tar.gz" "$NAME"
