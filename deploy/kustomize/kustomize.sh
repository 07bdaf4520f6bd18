#!/usr/bin/env bash
# Installs the pinned Kustomize CLI into $CRM_LOCAL_DIR/tools/bin (default .local/tools/bin), built
# from the Go module proxy, for the overlay test in tests/test_helm_chart.py. Idempotent: a binary
# of the pinned version is kept. Usage: kustomize.sh   (needs `go` on PATH; v5.8.1 is the newest
# release that builds with Go 1.26)
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=../local/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../local/lib.sh"

KUSTOMIZE_VERSION="${CRM_KUSTOMIZE_VERSION:-v5.8.1}"
BIN_DIR="$CRM_LOCAL_DIR/tools/bin"
KUSTOMIZE="$BIN_DIR/kustomize"

if [[ -x $KUSTOMIZE && $("$KUSTOMIZE" version 2>/dev/null) == "$KUSTOMIZE_VERSION" ]]; then
  log "kustomize: $KUSTOMIZE_VERSION already at $KUSTOMIZE"
  exit 0
fi
command -v go >/dev/null || die "kustomize: Go is needed to build kustomize $KUSTOMIZE_VERSION (https://go.dev/dl/)"
mkdir -p "$BIN_DIR"
log "kustomize: building $KUSTOMIZE_VERSION into $BIN_DIR (first time: a few minutes)"
GOBIN="$BIN_DIR" go install "sigs.k8s.io/kustomize/kustomize/v5@$KUSTOMIZE_VERSION"
"$KUSTOMIZE" version
