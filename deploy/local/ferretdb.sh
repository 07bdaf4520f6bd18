#!/usr/bin/env bash
# Local FerretDB (MongoDB wire protocol) on the SQLite backend: one Go binary, no
# Docker, no MongoDB. Usage: ferretdb.sh [start|stop|purge|status]
# State: $CRM_LOCAL_DIR/bin/ferretdb and $CRM_LOCAL_DIR/ferretdb/{data,state,logs,port,...}
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

VERSION="v1.24.2"
MODULE="github.com/FerretDB/FerretDB"
BIN="$CRM_LOCAL_DIR/bin/ferretdb"
FDB_DIR="$CRM_LOCAL_DIR/ferretdb"
PIDFILE="$FDB_DIR/ferretdb.pid"
LOGFILE="$FDB_DIR/logs/ferretdb.log"
PATTERN="ferretdb"

# Why not plain `go install $MODULE/cmd/ferretdb@$VERSION`: the resulting binary panics
# at start ("Invalid build/version/version.txt"), because FerretDB embeds a generated
# version.txt that the module zip lacks, and only checks for it when FerretDB itself is
# the main module. Go refuses -overlay for files in the module cache, so we go install
# from a writable copy of the (checksum-verified) module with version.txt filled in.
# (Output captured, not piped to grep -q: an early grep exit would SIGPIPE the binary
# and pipefail would call a good binary broken.)
built_version() { [[ -x $BIN ]] && "$BIN" --version 2>/dev/null | sed -n 's/^version: //p'; }

install_ferretdb() {
  [[ $(built_version || true) == "$VERSION" ]] && return 0
  command -v go >/dev/null || die "ferretdb: Go is needed to build FerretDB $VERSION"
  log "ferretdb: building $MODULE $VERSION into $CRM_LOCAL_DIR/bin (a few minutes the first time)"
  local mod src="$CRM_LOCAL_DIR/src/ferretdb-$VERSION"
  mod=$(go mod download -json "$MODULE@$VERSION" |
    "$CRM_PYTHON" -c 'import json, sys; print(json.load(sys.stdin)["Dir"])')
  rm -rf "$src"
  mkdir -p "$(dirname "$src")"
  cp -r "$mod" "$src"
  chmod -R u+w "$src"
  printf '%s\n' "$VERSION" >"$src/build/version/version.txt"
  printf 'crm-local\n' >"$src/build/version/package.txt"
  (cd "$src" && GOBIN="$CRM_LOCAL_DIR/bin" go install -buildvcs=false ./cmd/ferretdb)
  rm -rf "$src"
  rmdir "$(dirname "$src")" 2>/dev/null || true
  [[ $(built_version || true) == "$VERSION" ]] || die "ferretdb: built binary is broken"
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
    spawn "$PIDFILE" "$LOGFILE" "$BIN" --handler=sqlite \
      --sqlite-url="file:$FDB_DIR/data/" --listen-addr="127.0.0.1:$port" \
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
