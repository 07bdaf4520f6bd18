#!/usr/bin/env bash
# Fetches the CustomResourceDefinitions the Helm chart renders objects of into
# $CRM_LOCAL_DIR/crds (default .local/crds), at pinned versions, for the offline validation in
# tests/test_helm_chart.py. Nothing here is committed: the CRDs come from the registries.
#   - KEDA, CloudNativePG, prometheus-operator: their Go modules (Go module proxy) ship the
#     generated CRD YAMLs (config/crd/bases, example/prometheus-operator-crd).
#   - Strimzi publishes no CRD YAML on a registry we can reach (its Helm chart lives on quay.io,
#     and its io.strimzi:api jar holds only the model classes), so the CRDs are generated the
#     way Strimzi's own build generates them: io.strimzi:crd-generator run on io.strimzi:api,
#     both from Maven Central. The generator needs Java 21+.
# Idempotent: a directory whose stamp matches the pinned versions is kept.
# Usage: crds.sh   (needs `go`, `mvn` and a Java 21+ runtime)
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

KEDA_VERSION="${CRM_KEDA_VERSION:-v2.17.2}"
CNPG_VERSION="${CRM_CNPG_VERSION:-v1.27.0}"
PROMETHEUS_OPERATOR_VERSION="${CRM_PROMETHEUS_OPERATOR_VERSION:-v0.85.0}"
STRIMZI_VERSION="${CRM_STRIMZI_VERSION:-1.2.0}"

CRD_DIR="$CRM_LOCAL_DIR/crds"
STAMP="$CRD_DIR/.versions"
WANTED="keda=$KEDA_VERSION cnpg=$CNPG_VERSION prometheus-operator=$PROMETHEUS_OPERATOR_VERSION strimzi=$STRIMZI_VERSION"

if [[ -f $STAMP && $(<"$STAMP") == "$WANTED" ]]; then
  log "crds: $WANTED already in $CRD_DIR"
  exit 0
fi
command -v go >/dev/null || die "crds: Go is needed to fetch CRDs from the Go module proxy (https://go.dev/dl/)"
command -v mvn >/dev/null || die "crds: Maven is needed to fetch Strimzi's CRD generator from Maven Central"

# go_module_dir MODULE@VERSION: the module's directory in the Go module cache (downloaded if needed).
go_module_dir() {
  local json
  json=$(cd "$CRD_DIR" && GOFLAGS=-mod=mod go mod download -json "$1") || die "crds: go mod download $1 failed"
  "$CRM_PYTHON" -c 'import json, sys
info = json.loads(sys.stdin.read())
if info.get("Error") or not info.get("Dir"):
    sys.exit(info.get("Error", "no Dir"))
print(info["Dir"])' <<<"$json" || die "crds: $1: no module directory"
}

# copy_crds NAME DIR FILE...: copy the named CRD files of one project into $CRD_DIR/NAME.
copy_crds() {
  local name=$1 dir=$2
  shift 2
  rm -rf "${CRD_DIR:?}/$name"
  mkdir -p "$CRD_DIR/$name"
  for file in "$@"; do
    [[ -f $dir/$file ]] || die "crds: $name: $file is not in $dir"
    install -m 0644 "$dir/$file" "$CRD_DIR/$name/"
  done
}

# java21: a Java runtime of version 21 or later (JAVA_HOME, PATH, then /usr/lib/jvm).
java21() {
  local candidate major
  for candidate in "${JAVA_HOME:+$JAVA_HOME/bin/java}" "$(command -v java || true)" /usr/lib/jvm/*/bin/java; do
    [[ -n $candidate && -x $candidate ]] || continue
    major=$("$candidate" -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java.specification.version = \([0-9]*\).*/\1/p')
    if [[ -n $major && $major -ge 21 ]]; then
      printf '%s\n' "$candidate"
      return 0
    fi
  done
  die "crds: Strimzi's CRD generator needs Java 21 or later (set JAVA_HOME)"
}

mkdir -p "$CRD_DIR"
log "crds: fetching $WANTED into $CRD_DIR"

copy_crds keda "$(go_module_dir "github.com/kedacore/keda/v2@$KEDA_VERSION")/config/crd/bases" \
  keda.sh_scaledobjects.yaml keda.sh_triggerauthentications.yaml
copy_crds cnpg "$(go_module_dir "github.com/cloudnative-pg/cloudnative-pg@$CNPG_VERSION")/config/crd/bases" \
  postgresql.cnpg.io_clusters.yaml
copy_crds prometheus-operator \
  "$(go_module_dir "github.com/prometheus-operator/prometheus-operator@$PROMETHEUS_OPERATOR_VERSION")/example/prometheus-operator-crd" \
  monitoring.coreos.com_servicemonitors.yaml

build="$CRD_DIR/.strimzi-build"
rm -rf "$build" "$CRD_DIR/strimzi"
mkdir -p "$build" "$CRD_DIR/strimzi"
cat >"$build/pom.xml" <<EOF
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>local.crm</groupId>
  <artifactId>strimzi-crds</artifactId>
  <version>1</version>
  <dependencies>
    <dependency><groupId>io.strimzi</groupId><artifactId>api</artifactId><version>$STRIMZI_VERSION</version></dependency>
    <dependency><groupId>io.strimzi</groupId><artifactId>crd-generator</artifactId><version>$STRIMZI_VERSION</version></dependency>
  </dependencies>
</project>
EOF
if ! (cd "$build" && mvn -q -B dependency:build-classpath -Dmdep.outputFile="$build/classpath.txt") >"$build/mvn.log" 2>&1; then
  cat "$build/mvn.log" >&2
  die "crds: resolving io.strimzi:api and io.strimzi:crd-generator $STRIMZI_VERSION from Maven Central failed"
fi
"$(java21)" -cp "$(<"$build/classpath.txt")" io.strimzi.crdgenerator.CrdGenerator --yaml --crd-api-version v1 \
  "io.strimzi.api.kafka.model.kafka.Kafka=$CRD_DIR/strimzi/kafka.strimzi.io_kafkas.yaml" \
  "io.strimzi.api.kafka.model.nodepool.KafkaNodePool=$CRD_DIR/strimzi/kafka.strimzi.io_kafkanodepools.yaml" \
  "io.strimzi.api.kafka.model.topic.KafkaTopic=$CRD_DIR/strimzi/kafka.strimzi.io_kafkatopics.yaml" \
  "io.strimzi.api.kafka.model.user.KafkaUser=$CRD_DIR/strimzi/kafka.strimzi.io_kafkausers.yaml" \
  || die "crds: Strimzi's CRD generator failed"
rm -rf "$build"

printf '%s\n' "$WANTED" >"$STAMP"
log "crds: $(find "$CRD_DIR" -name '*.yaml' | wc -l) CRDs in $CRD_DIR"
