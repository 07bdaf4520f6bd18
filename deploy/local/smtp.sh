#!/usr/bin/env bash
# Local SMTP sink (aiosmtpd, crm/mailsink.py): accepts mail on a free loopback port and
# writes every message into a Maildir that tests read. Usage: smtp.sh [start|stop|purge|status]
# State: $CRM_LOCAL_DIR/smtp/{maildir,logs,port,smtp.pid}
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

SMTP_DIR="$CRM_LOCAL_DIR/smtp"
PIDFILE="$SMTP_DIR/smtp.pid"
LOGFILE="$SMTP_DIR/logs/smtp.log"
PATTERN="crm.mailsink"

# A real SMTP greeting, not just a TCP accept.
smtp_answers() {
  port_answers "$1" || return 1
  "$CRM_PYTHON" -c 'import smtplib, sys
with smtplib.SMTP("127.0.0.1", int(sys.argv[1]), timeout=3) as s:
    s.noop()' "$1"
}

start() {
  lock_dir "$SMTP_DIR"
  local port state=reused t0=$SECONDS
  if ! pid_alive "$PIDFILE" "$PATTERN"; then
    state=started
    mkdir -p "$SMTP_DIR/maildir" "$SMTP_DIR/logs"
    port=$(pick_port "$SMTP_DIR/port")
    (cd "$CRM_REPO_DIR" && spawn "$PIDFILE" "$LOGFILE" "$CRM_PYTHON" -m crm.mailsink \
      --port "$port" --maildir "$SMTP_DIR/maildir")
  fi
  port=$(<"$SMTP_DIR/port")
  await_server "smtp sink on 127.0.0.1:$port" 30 "$LOGFILE" "$PIDFILE" "$PATTERN" smtp_answers "$port"
  summary smtp "$state" "127.0.0.1:$port" "pid $(read_pid "$PIDFILE"), $((SECONDS - t0))s"
}

stop() { stop_pid "$PIDFILE" "$PATTERN" 10; }

# Deletes the stored messages and logs.
purge() {
  stop
  rm -rf "$SMTP_DIR"
}

status() { server_status smtp "$SMTP_DIR" "$PIDFILE" "$PATTERN"; }

case "${1:-start}" in
  start | stop | purge | status) "${1:-start}" ;;
  *) die "usage: $0 [start|stop|purge|status]" ;;
esac
