# shellcheck shell=bash
# Helpers shared by deploy/local/*.sh; sourced, never run. Callers already run under
# `set -euo pipefail`. Everything the local stack writes lives under $CRM_LOCAL_DIR.

LOCAL_SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
CRM_REPO_DIR="$(cd "$LOCAL_SCRIPT_DIR/../.." && pwd)"
CRM_LOCAL_DIR="${CRM_LOCAL_DIR:-$CRM_REPO_DIR/.local}"
# The project venv has aiokafka/pymongo for real protocol probes; without them the
# scripts fall back to weaker checks, so prefer it when the caller did not choose.
if [[ -z "${CRM_PYTHON:-}" && -x "$CRM_REPO_DIR/.venv/bin/python" ]]; then
  CRM_PYTHON="$CRM_REPO_DIR/.venv/bin/python"
fi
CRM_PYTHON="${CRM_PYTHON:-python3}"
export CRM_LOCAL_DIR CRM_PYTHON
mkdir -p "$CRM_LOCAL_DIR"

log() { printf '[local] %s\n' "$*" >&2; }
die() { printf '[local] ERROR: %s\n' "$*" >&2; exit 1; }

# summary NAME STATE ADDR [DETAIL]: the one line per server that up/status print.
summary() { printf '%-9s %-8s %-22s %s\n' "$1" "$2" "$3" "${4:-}"; }

# lock_dir DIR: serialise concurrent runs for one server (e.g. two `make up` at once).
# fd 9 must not leak into servers we spawn, or they would hold the lock forever.
lock_dir() {
  mkdir -p "$1"
  exec 9>"$1/.lock"
  flock -w 600 9 || die "timed out waiting for $1/.lock"
}

# free_ports N: N distinct free loopback ports, held open together so they differ.
free_ports() {
  "$CRM_PYTHON" -c 'import socket, sys
socks = [socket.socket() for _ in range(int(sys.argv[1]))]
for s in socks: s.bind(("127.0.0.1", 0))
print(" ".join(str(s.getsockname()[1]) for s in socks))' "$1"
}

# port_free PORT: nothing listens there. SO_REUSEADDR mimics the servers, which can
# bind next to TIME_WAIT leftovers of their previous run.
port_free() {
  "$CRM_PYTHON" -c 'import socket, sys
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1])))' "$1" 2>/dev/null
}

# port_answers PORT: something accepts TCP connections on 127.0.0.1:PORT.
port_answers() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# pick_port FILE [AVOID...]: reuse the port persisted in FILE while it is still free, so
# clients keep their settings across restarts; otherwise pick and persist a new one.
# AVOID: ports already picked for the same server (free until it binds them).
# Only called while our own server is down, so "not free" means someone else has it.
pick_port() {
  local file=$1 port=""
  shift
  local avoid=" $* "
  [[ -s $file ]] && port=$(<"$file")
  if [[ ! $port =~ ^[0-9]+$ || $avoid == *" $port "* ]] || ! port_free "$port"; then
    [[ -n $port ]] && log "port $port ($file) is taken; choosing another"
    port=$(free_ports $(($# + 1)) | tr ' ' '\n' | grep -vxF -e 0 "${@/#/-e}" | head -n1)
    printf '%s\n' "$port" >"$file"
  fi
  printf '%s\n' "$port"
}

# read_pid FILE: first line of a pid file (postgres' postmaster.pid has more lines).
read_pid() {
  local pid
  pid=$(head -n1 "$1" 2>/dev/null) && [[ $pid =~ ^[0-9]+$ ]] && printf '%s\n' "$pid"
}

# pid_alive FILE PATTERN: the pid is alive AND its command line matches PATTERN, so a
# stale pid file whose number was recycled by another process (after a reboot) or a
# zombie (empty cmdline) does not count as our server.
pid_alive() {
  local pid cmd
  pid=$(read_pid "$1") || return 1
  kill -0 "$pid" 2>/dev/null || return 1
  cmd=$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null) || return 1
  [[ $cmd == *"$2"* ]]
}

pid_gone() { ! pid_alive "$@"; }

# wait_until SECONDS CMD...: poll CMD until it succeeds; 1 on deadline.
wait_until() {
  local deadline=$((SECONDS + $1))
  shift
  until "$@"; do
    ((SECONDS < deadline)) || return 1
    sleep 0.5
  done
}

# wait_ready SECONDS PIDFILE PATTERN CMD...: like wait_until, but gives up at once
# (status 2) when the server process dies instead of waiting out the deadline.
wait_ready() {
  local deadline=$((SECONDS + $1)) pidfile=$2 pattern=$3
  shift 3
  until "$@" 2>/dev/null; do
    pid_alive "$pidfile" "$pattern" || return 2
    ((SECONDS < deadline)) || return 1
    sleep 0.5
  done
}

# await_server NAME SECONDS LOGFILE PIDFILE PATTERN CMD...: wait_ready, or die with
# the server's log, saying whether it died or just did not answer in time.
await_server() {
  local name=$1 seconds=$2 logfile=$3 status=0
  shift 3
  wait_ready "$seconds" "$@" || status=$?
  ((status == 0)) && return 0
  ((status == 2)) && fail_with_log "$name exited during startup" "$logfile"
  fail_with_log "$name did not answer within $seconds s" "$logfile"
}

# spawn PIDFILE LOGFILE CMD...: start CMD detached. setsid puts it in its own session
# so Ctrl-C on `make` does not kill it; the child writes its own pid, which stays right
# whether or not setsid had to fork.
spawn() {
  local pidfile=$1 logfile=$2
  shift 2
  rm -f "$pidfile"
  # shellcheck disable=SC2016 # $$ and $@ belong to the inner shell
  nohup setsid bash -c 'echo $$ >"$0"; exec "$@"' "$pidfile" "$@" \
    >>"$logfile" 2>&1 </dev/null 9>&- &
  wait_until 10 test -s "$pidfile" || die "could not start $1"
}

# stop_pid FILE PATTERN [GRACE]: SIGTERM (servers flush and close cleanly), SIGKILL
# after GRACE seconds. No-op when not running.
stop_pid() {
  local pidfile=$1 pattern=$2 grace=${3:-30} pid
  if pid_alive "$pidfile" "$pattern"; then
    pid=$(read_pid "$pidfile")
    kill -TERM "$pid" 2>/dev/null || true
    if ! wait_until "$grace" pid_gone "$pidfile" "$pattern"; then
      log "pid $pid ignored SIGTERM for ${grace}s; sending SIGKILL"
      kill -KILL "$pid" 2>/dev/null || true
      wait_until 10 pid_gone "$pidfile" "$pattern" || true
    fi
  fi
  rm -f "$pidfile"
}

# fail_with_log MESSAGE LOGFILE: die, showing the end of the server's log.
fail_with_log() {
  printf '[local] ERROR: %s\n--- last lines of %s ---\n' "$1" "$2" >&2
  tail -n 40 "$2" >&2 2>/dev/null || true
  exit 1
}

# The servers, in start order. Each has deploy/local/NAME.sh start|stop|purge|status.
SERVERS=(kafka ferretdb postgres smtp)

# pick_servers NAME...: sets PICKED to the validated names, all servers when none given.
# (A global rather than output: die inside $(...) or <(...) would not stop the caller.)
pick_servers() {
  local s
  (($#)) || set -- "${SERVERS[@]}"
  PICKED=()
  for s; do
    [[ " ${SERVERS[*]} " == *" $s "* ]] || die "unknown server '$s' (known: ${SERVERS[*]})"
    PICKED+=("$s")
  done
}

# Prints one server's state line; status 3 when it is stopped. Args: name dir pidfile pattern
server_status() {
  local port
  port=$(cat "$2/port" 2>/dev/null || echo -)
  if pid_alive "$3" "$4" && port_answers "$port"; then
    summary "$1" running "127.0.0.1:$port" "pid $(read_pid "$3")"
  else
    summary "$1" stopped "127.0.0.1:$port"
    return 3
  fi
}
