#!/usr/bin/env bash
# Local FerretDB (MongoDB wire protocol) on the SQLite backend: one Go binary, no
# Docker, no MongoDB. Usage: ferretdb.sh [start|stop|purge|status]
# State: $CRM_LOCAL_DIR/bin/ferretdb and $CRM_LOCAL_DIR/ferretdb/{data,state,logs,port,...}
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

VERSION="v1.24.2"
# What the binary reports (`ferretdb --version`, `crm status`): upstream's version plus
# our patch level. Bump the suffix when a patch changes what the server does.
BUILD_VERSION="$VERSION-crm.1"
MODULE="github.com/FerretDB/FerretDB"
PATCH_DIR="$LOCAL_SCRIPT_DIR/ferretdb"
BIN="$CRM_LOCAL_DIR/bin/ferretdb"
# sha256 of the patch files the binary was built with: a changed patch rebuilds.
STAMP="$CRM_LOCAL_DIR/bin/ferretdb.patches"
FDB_DIR="$CRM_LOCAL_DIR/ferretdb"
PIDFILE="$FDB_DIR/ferretdb.pid"
LOGFILE="$FDB_DIR/logs/ferretdb.log"
PATTERN="ferretdb"

# Why not plain `go install $MODULE/cmd/ferretdb@$VERSION`: the resulting binary panics
# at start ("Invalid build/version/version.txt"), because FerretDB embeds a generated
# version.txt that the module zip lacks, and only checks for it when FerretDB itself is
# the main module. Go refuses -overlay for files in the module cache, so we build from
# a writable copy of the (checksum-verified) module with version.txt filled in. That
# copy is also where our patches (deploy/local/ferretdb/*.patch, applied in name order,
# each saying what it fixes and why) go: they remove the table scans and the hang of
# the SQLite backend described in the README's "Read store" section. The copy is
# deleted after the build; no FerretDB source is kept or committed.
# (Output captured, not piped to grep -q: an early grep exit would SIGPIPE the binary
# and pipefail would call a good binary broken.)
built_version() { [[ -x $BIN ]] && "$BIN" --version 2>/dev/null | sed -n 's/^version: //p'; }

patches_digest() {
  local f
  for f in "$PATCH_DIR"/*.patch; do
    printf '%s %s\n' "$(sha256sum <"$f" | cut -d' ' -f1)" "$(basename "$f")"
  done
}

install_ferretdb() {
  local digest
  digest=$(patches_digest)
  if [[ $(built_version || true) == "$BUILD_VERSION" && -f $STAMP && $(<"$STAMP") == "$digest" ]]; then
    return 0
  fi
  command -v go >/dev/null || die "ferretdb: Go is needed to build FerretDB $VERSION"
  command -v patch >/dev/null || die "ferretdb: patch(1) is needed to build FerretDB $BUILD_VERSION"
  log "ferretdb: building $MODULE $VERSION with our patches as $BUILD_VERSION into $CRM_LOCAL_DIR/bin (a few minutes the first time)"
  local mod p src="$CRM_LOCAL_DIR/src/ferretdb-$VERSION"
  mod=$(go mod download -json "$MODULE@$VERSION" |
    "$CRM_PYTHON" -c 'import json, sys; print(json.load(sys.stdin)["Dir"])')
  rm -rf "$src"
  mkdir -p "$(dirname "$src")"
  cp -r "$mod" "$src"
  chmod -R u+w "$src"
  for p in "$PATCH_DIR"/*.patch; do
    patch --directory="$src" --strip=1 --forward --batch --quiet <"$p" ||
      die "ferretdb: $(basename "$p") does not apply to $MODULE $VERSION"
  done
  printf '%s\n' "$BUILD_VERSION" >"$src/build/version/version.txt"
  printf 'crm-local\n' >"$src/build/version/package.txt"
  rm -f "$STAMP"
  (cd "$src" && GOBIN="$CRM_LOCAL_DIR/bin" go install -buildvcs=false ./cmd/ferretdb)
  rm -rf "$src"
  rmdir "$(dirname "$src")" 2>/dev/null || true
  [[ $(built_version || true) == "$BUILD_VERSION" ]] || die "ferretdb: built binary is broken"
  printf '%s\n' "$digest" >"$STAMP"
  # A server still running the previous build must not be reused by start().
  if pid_alive "$PIDFILE" "$PATTERN"; then
    log "ferretdb: restarting the running server on the new build"
    stop
  fi
}

# Real MongoDB handshake + ping, not just a TCP accept. pymongo comes with the project
# venv; without it (exit 3) FerretDB's own `ping` subcommand (Go mongo driver) does it.
mongo_answers() {
  port_answers "$1" || return 1
  local rc=0
  "$CRM_PYTHON" - "$1" <<'EOF' || rc=$?
import sys
try:
    from pymongo import MongoClient
except ImportError:
    sys.exit(3)
client = MongoClient("127.0.0.1", int(sys.argv[1]), serverSelectionTimeoutMS=2000)
try:
    client.admin.command("ping")
finally:
    client.close()
EOF
  ((rc == 3)) || return "$rc"
  "$BIN" ping --listen-addr="127.0.0.1:$1" --setup-timeout=3s --log-level=error >/dev/null
}

start() {
  lock_dir "$FDB_DIR"
  install_ferretdb
  local port state=reused t0=$SECONDS
  if ! pid_alive "$PIDFILE" "$PATTERN"; then
    state=started
    mkdir -p "$FDB_DIR/data" "$FDB_DIR/state" "$FDB_DIR/logs"
    port=$(pick_port "$FDB_DIR/port")
    # --state-dir: FerretDB writes state.json into the cwd by default.
    # --debug-addr=-: disables the metrics/pprof HTTP listener (would take :8088).
    # --telemetry=disable: no beacon calls (no internet here anyway; avoids the delay).
    # synchronous(normal) with FerretDB's WAL journal: a commit no longer waits for an
    # fsync (a document write costs about half). A process crash loses nothing committed;
    # a power loss can lose the last commits, which is acceptable for a read store that
    # is rebuilt from Kafka (see the README's "Read store").
    spawn "$PIDFILE" "$LOGFILE" "$BIN" --handler=sqlite \
      --sqlite-url="file:$FDB_DIR/data/?_pragma=synchronous(normal)" --listen-addr="127.0.0.1:$port" \
      --state-dir="$FDB_DIR/state" --debug-addr=- --telemetry=disable \
      --log-level=info --log-format=text
  fi
  port=$(<"$FDB_DIR/port")
  await_server "ferretdb on 127.0.0.1:$port" 30 "$LOGFILE" "$PIDFILE" "$PATTERN" mongo_answers "$port"
  summary ferretdb "$state" "127.0.0.1:$port" "pid $(read_pid "$PIDFILE"), $((SECONDS - t0))s"
}

stop() { stop_pid "$PIDFILE" "$PATTERN" 30; }

# Deletes the SQLite databases and logs; keeps the built binary in $CRM_LOCAL_DIR/bin.
purge() {
  stop
  rm -rf "$FDB_DIR"
}

status() { server_status ferretdb "$FDB_DIR" "$PIDFILE" "$PATTERN"; }

case "${1:-start}" in
  start | stop | purge | status) "${1:-start}" ;;
  *) die "usage: $0 [start|stop|purge|status]" ;;
esac
