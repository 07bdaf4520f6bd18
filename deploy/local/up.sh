#!/usr/bin/env bash
# Install (first time only) and start the local servers on free loopback ports, reusing
# any that already run, then write $CRM_LOCAL_DIR/stack.env for make and the tests.
# Usage: up.sh [kafka|ferretdb|postgres|smtp ...]   (no argument: all four)
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

main() {
  local s t0=$SECONDS
  pick_servers "$@"
  # Sequential on purpose: installs and startups compete for the same 2 cores anyway,
  # and a failure then points at exactly one server with its log.
  for s in "${PICKED[@]}"; do
    "$LOCAL_SCRIPT_DIR/$s.sh" start
  done
  "$LOCAL_SCRIPT_DIR/stack-env.sh"
  log "stack ready in $((SECONDS - t0))s; settings in $CRM_LOCAL_DIR/stack.env"
}

main "$@"
