#!/usr/bin/env bash
# Stop the local servers (SIGTERM / fast shutdown, SIGKILL only after a deadline).
# Idempotent: stopping a stopped server is fine.
# Usage: down.sh [--purge] [kafka|ferretdb|postgres|smtp ...]   (no name: all four)
# --purge also deletes their data, logs and ports; downloaded jars and the built
# ferretdb binary stay, so the next up.sh is still quick.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

main() {
  local action=stop done_word=stopped names=() s
  for s; do
    case "$s" in
      --purge) action=purge done_word=purged ;;
      -*) die "usage: $0 [--purge] [${SERVERS[*]}]" ;;
      *) names+=("$s") ;;
    esac
  done
  pick_servers "${names[@]}"
  for s in "${PICKED[@]}"; do
    "$LOCAL_SCRIPT_DIR/$s.sh" "$action"
    summary "$s" "$done_word" ""
  done
  "$LOCAL_SCRIPT_DIR/stack-env.sh"
}

main "$@"
