#!/usr/bin/env bash
# Installs the pinned Helm CLI into $CRM_LOCAL_DIR/tools/bin (default .local/tools/bin), built
# from the Go module proxy, for the chart tests (tests/test_helm_chart.py). Idempotent: a
# binary of the pinned version is kept. Usage: helm.sh   (needs `go` on PATH)
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

HELM_VERSION="${CRM_HELM_VERSION:-v3.22.0}"
BIN_DIR="$CRM_LOCAL_DIR/tools/bin"
HELM="$BIN_DIR/helm"
# `go install` builds without release ldflags (helm then reports only "v3.22"), so a stamp
# file records which version was built.
STAMP="$BIN_DIR/.helm-version"

if [[ -x $HELM && -f $STAMP && $(<"$STAMP") == "$HELM_VERSION" ]]; then
  log "helm: $HELM_VERSION already at $HELM"
  exit 0
fi
command -v go >/dev/null || die "helm: Go is needed to build helm $HELM_VERSION (https://go.dev/dl/)"
mkdir -p "$BIN_DIR"
log "helm: building $HELM_VERSION into $BIN_DIR (first time: a few minutes)"
GOBIN="$BIN_DIR" go install "helm.sh/helm/v3/cmd/helm@$HELM_VERSION"
printf '%s\n' "$HELM_VERSION" >"$STAMP"
"$HELM" version --short
