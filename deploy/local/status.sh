#!/usr/bin/env bash
# Print each local server's state and address. Exit 0 when all run, 3 otherwise, so
# scripts can test it (`status.sh >/dev/null || up.sh`).
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

rc=0
for s in "${SERVERS[@]}"; do
  "$LOCAL_SCRIPT_DIR/$s.sh" status || rc=3
done
exit "$rc"
