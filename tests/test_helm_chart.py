"""The Helm chart (deploy/helm/crm) renders objects Kubernetes accepts and that keep the platform's rules.

Rendered offline with `helm template` for the default, production and evaluation values
files; built-in objects are validated against the Kubernetes schemas bundled with
`kubernetes-validate`, custom resources (KEDA, Strimzi, CloudNativePG, prometheus-operator)
against their CRDs' OpenAPI v3 schemas, fetched by deploy/local/crds.sh into .local/crds.
Then the invariants the platform promises: probes, limits, a locked-down security context
everywhere, single-active relays, lag-scaled projectors bounded by partitions, credentials
only from Secrets the chart does not render, Kafka users and network paths limited to what
each service needs.
"""

from __future__ import annotations

import ast
import copy
import importlib
import json
import os
import shutil
import subprocess
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
import kubernetes_validate  # type: ignore[import-untyped]  # ships no type information
import pytest
import yaml
from pydantic_settings import BaseSettings

from crm.devstack import SERVICES
from shared.events.topics import PARTITIONS, STREAMS, all_topics
from shared.platform.eventstore import EventStoreSettings
from shared.platform.kafka import KafkaSettings

ROOT = Path(__file__).resolve().parents[1]
CHART = ROOT / "deploy" / "helm" / "crm"
PRODUCTION = CHART / "values-production.yaml"
EVALUATION = CHART / "values-evaluation.yaml"
LOCAL = Path(os.environ.get("CRM_LOCAL_DIR", ROOT / ".local"))
"""Where the provisioning scripts put what they fetch and build (they honour CRM_LOCAL_DIR)."""
CRDS = LOCAL / "crds"
KUBE_VERSION = "1.31.0"
WORKLOADS = {"Deployment", "StatefulSet", "DaemonSet", "Job", "CronJob"}
SENSITIVE = ("SECRET", "PASSWORD", "KEY", "MONGO_URL", "TOKEN")
SETTINGS = {
    "customer": "services.customer.settings:CustomerSettings",
    "sales": "services.sales.settings:SalesSettings",
    "marketing": "services.marketing.settings:MarketingSettings",
    "support": "services.support.settings:SupportSettings",
    "social": "services.social.settings:SocialSettings",
    "analytics": "services.analytics.settings:AnalyticsSettings",
}


TOOLS = LOCAL / "tools" / "bin"


def tool(name: str, installer: str) -> str:
    """A pinned CLI from the provisioning (else PATH); a clear failure, never a skip, when it is missing."""
    found = shutil.which(name, path=f"{TOOLS}{os.pathsep}{os.environ.get('PATH', '')}")
    if found is None:
        pytest.fail(f"{name} is not installed: run {installer} (installs it into {TOOLS})")
    return found


def helm() -> str:
    return tool("helm", "deploy/local/helm.sh")


def run_helm(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([helm(), *args], capture_output=True, text=True, check=False, timeout=120)


@cache
def render(*extra: str) -> tuple[dict[str, Any], ...]:
    """Every object `helm template` renders with the given extra arguments."""
    result = run_helm("template", "crm", str(CHART), "--namespace", "crm", "--kube-version", KUBE_VERSION, *extra)
    assert result.returncode == 0, result.stderr
    return tuple(doc for doc in yaml.safe_load_all(result.stdout) if doc)


VARIANTS = {"default": (), "production": ("-f", str(PRODUCTION)), "evaluation": ("-f", str(EVALUATION))}


@pytest.fixture(params=list(VARIANTS))
def objects(request: pytest.FixtureRequest) -> tuple[dict[str, Any], ...]:
    return render(*VARIANTS[request.param])


def of_kind(objects: tuple[dict[str, Any], ...], kind: str) -> list[dict[str, Any]]:
    return [o for o in objects if o["kind"] == kind]


def of_role(objects: tuple[dict[str, Any], ...], role: str) -> list[dict[str, Any]]:
    """The Deployments of one process role (api, relay, worker, projector)."""
    return [
        d for d in of_kind(objects, "Deployment") if d["spec"]["template"]["metadata"]["labels"]["crm/role"] == role
    ]


def component(obj: dict[str, Any]) -> str:
    """The component label an object selects."""
    value: str = obj["spec"]["selector"]["matchLabels"]["app.kubernetes.io/component"]
    return value


def pod_specs(objects: tuple[dict[str, Any], ...]) -> list[tuple[str, dict[str, Any]]]:
    return [(o["metadata"]["name"], o["spec"]["template"]["spec"]) for o in objects if o["kind"] in WORKLOADS]


def containers(objects: tuple[dict[str, Any], ...]) -> list[tuple[str, dict[str, Any]]]:
    return [(name, c) for name, spec in pod_specs(objects) for c in spec["containers"] + spec.get("initContainers", [])]


def crm_containers(objects: tuple[dict[str, Any], ...]) -> list[tuple[str, str, dict[str, Any]]]:
    """(workload name, service, container) of every CRM process: the pods with a crm/role (not MongoDB)."""
    return [
        (o["metadata"]["name"], labels["crm/service"], c)
        for o in objects
        if o["kind"] in WORKLOADS and "crm/role" in (labels := o["spec"]["template"]["metadata"]["labels"])
        for c in o["spec"]["template"]["spec"]["containers"]
    ]


def env_of(container: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {e["name"]: e for e in container["env"]}


def values(path: Path = CHART / "values.yaml") -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(path.read_text())
    return loaded


@pytest.mark.parametrize("variant", list(VARIANTS))
def test_the_chart_lints_cleanly(variant: str) -> None:
    result = run_helm("lint", "--strict", str(CHART), "--kube-version", KUBE_VERSION, *VARIANTS[variant])
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_builtin_object_is_valid_against_the_kubernetes_schemas(objects: tuple[dict[str, Any], ...]) -> None:
    builtin = [o for o in objects if "." not in o["apiVersion"].split("/")[0] or o["apiVersion"].endswith(".k8s.io/v1")]
    assert len(builtin) > 40
    for obj in builtin:
        try:
            kubernetes_validate.validate(obj, KUBE_VERSION, strict=True)
        except kubernetes_validate.ValidationError as exc:
            pytest.fail(f"{obj['kind']}/{obj['metadata']['name']}: {exc.message} at {list(exc.path)}")


def test_every_container_has_probes_limits_and_a_locked_down_security_context(
    objects: tuple[dict[str, Any], ...],
) -> None:
    assert containers(objects)
    for name, container in containers(objects):
        assert container.get("livenessProbe"), f"{name}: liveness probe"
        assert container.get("readinessProbe"), f"{name}: readiness probe"
        resources = container["resources"]
        assert {"cpu", "memory"} <= resources["limits"].keys(), f"{name}: limits"
        assert {"cpu", "memory"} <= resources["requests"].keys(), f"{name}: requests"
        ctx = container["securityContext"]
        assert ctx["runAsNonRoot"] is True, name
        assert ctx["readOnlyRootFilesystem"] is True, name
        assert ctx["allowPrivilegeEscalation"] is False, name
        assert ctx["capabilities"]["drop"] == ["ALL"], name
        assert not ctx["capabilities"].get("add"), name
        mounts = {m["mountPath"] for m in container["volumeMounts"]}
        assert "/tmp" in mounts, f"{name}: an emptyDir is the only writable path"  # noqa: S108
    for name, spec in pod_specs(objects):
        assert spec["automountServiceAccountToken"] is False, name
        assert spec["securityContext"]["runAsNonRoot"] is True, name
        assert spec["securityContext"]["seccompProfile"]["type"] == "RuntimeDefault", name
    for account in of_kind(objects, "ServiceAccount"):
        assert account["automountServiceAccountToken"] is False


def test_apis_probe_healthz_and_readyz_with_a_startup_probe_a_pdb_and_a_cpu_hpa(
    objects: tuple[dict[str, Any], ...],
) -> None:
    apis = of_role(objects, "api")
    assert len(apis) == len([s for s in SERVICES if s.port_var])
    pdbs = {component(p) for p in of_kind(objects, "PodDisruptionBudget")}
    hpas = {h["spec"]["scaleTargetRef"]["name"]: h for h in of_kind(objects, "HorizontalPodAutoscaler")}
    for api in apis:
        (container,) = api["spec"]["template"]["spec"]["containers"]
        assert container["startupProbe"]["httpGet"]["path"] == "/healthz"
        assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
        assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
        assert component(api) in pdbs
        metrics = hpas[api["metadata"]["name"]]["spec"]["metrics"]
        assert metrics[0]["resource"]["name"] == "cpu"
        annotations = api["spec"]["template"]["metadata"]["annotations"]
        assert annotations["prometheus.io/scrape"] == "true"


def test_every_devstack_process_runs_in_the_chart(objects: tuple[dict[str, Any], ...]) -> None:
    modules = {c["command"][-1] for _, _, c in crm_containers(objects)}
    assert modules == {s.module for s in SERVICES}


def test_relays_run_two_pods_with_leader_election_on_postgres(objects: tuple[dict[str, Any], ...]) -> None:
    relays = of_role(objects, "relay")
    assert {d["spec"]["template"]["spec"]["containers"][0]["command"][-1] for d in relays} == {
        s.module for s in SERVICES if s.name.endswith("-relay")
    }
    for relay in relays:
        assert relay["spec"]["replicas"] == 2, "one active, one standby"
        assert relay["metadata"]["annotations"]["crm/leader-election"] == "postgres-advisory-lock"
        env = {e["name"]: e for e in relay["spec"]["template"]["spec"]["containers"][0]["env"]}
        backend = [e["value"] for name, e in env.items() if name.endswith("_STORE__BACKEND")]
        assert backend == ["postgres"], "leader election needs the PostgreSQL store"


def test_one_scaled_object_per_projector_group_bounded_by_partitions(objects: tuple[dict[str, Any], ...]) -> None:
    (scaled,) = of_kind(objects, "ScaledObject")
    assert scaled["apiVersion"] == "keda.sh/v1alpha1"
    target = scaled["spec"]["scaleTargetRef"]["name"]
    (projector,) = [d for d in of_kind(objects, "Deployment") if d["metadata"]["name"] == target]
    assert projector["spec"]["template"]["spec"]["containers"][0]["command"][-1] == "services.analytics.projector"
    assert "replicas" not in projector["spec"], "KEDA owns the replica count"
    assert 1 <= scaled["spec"]["minReplicaCount"] <= scaled["spec"]["maxReplicaCount"] <= PARTITIONS
    (trigger,) = scaled["spec"]["triggers"]
    assert trigger["type"] == "kafka"
    assert trigger["metadata"]["consumerGroup"].endswith("analytics")
    assert int(trigger["metadata"]["lagThreshold"]) > 0


def test_after_a_rebuild_keda_follows_the_active_generations_group() -> None:
    (scaled,) = of_kind(render("--set", "projector.generation=3"), "ScaledObject")
    (trigger,) = scaled["spec"]["triggers"]
    assert trigger["metadata"]["consumerGroup"].endswith("analytics-g3")


def test_more_projector_replicas_than_partitions_is_refused() -> None:
    result = run_helm(
        "template",
        "crm",
        str(CHART),
        "--kube-version",
        KUBE_VERSION,
        "--set",
        f"projector.maxReplicas={PARTITIONS + 1}",
    )
    assert result.returncode != 0
    assert "must not exceed kafka.partitions" in result.stderr


def test_credentials_come_only_from_secrets_the_chart_does_not_render(objects: tuple[dict[str, Any], ...]) -> None:
    """The existing Secret, or (evaluation) the Secrets Strimzi and CloudNativePG create for their users."""
    assert not of_kind(objects, "Secret"), "the chart never renders a Secret"
    (existing,) = {
        env_of(c)["CRM_JWT_SECRET"]["valueFrom"]["secretKeyRef"]["name"] for _, _, c in crm_containers(objects)
    }
    allowed = (
        {existing}
        | {u["metadata"]["name"] for u in of_kind(objects, "KafkaUser")}  # Strimzi: the user's SCRAM password
        | {f"{k['metadata']['name']}-cluster-ca-cert" for k in of_kind(objects, "Kafka")}  # Strimzi: brokers' CA
        | {f"{c['metadata']['name']}-app" for c in of_kind(objects, "Cluster")}  # CloudNativePG: the owner's password
    )
    for name, container in containers(objects):
        for var in container["env"]:
            if any(word in var["name"] for word in SENSITIVE):
                assert "value" not in var, f"{name}: {var['name']} must come from a Secret"
                assert var["valueFrom"]["secretKeyRef"]["name"] in allowed, f"{name}: {var['name']}"
    for name, spec in pod_specs(objects):
        for volume in spec["volumes"]:
            if "secret" in volume:
                assert volume["secret"]["secretName"] in allowed, f"{name}: volume {volume['name']}"


def test_a_release_without_an_existing_secret_is_refused() -> None:
    result = run_helm("template", "crm", str(CHART), "--kube-version", KUBE_VERSION, "--set", "existingSecret=")
    assert result.returncode != 0
    assert "existingSecret is required" in result.stderr


def test_every_environment_variable_names_a_real_setting(objects: tuple[dict[str, Any], ...]) -> None:
    store_fields = set(EventStoreSettings.model_fields)
    for name, container in containers(objects):
        for var in container["env"]:
            parts = var["name"].split("_", 2)
            if parts[0] != "CRM" or parts[1].lower() not in SETTINGS:
                continue
            module, cls = SETTINGS[parts[1].lower()].split(":")
            settings: type[BaseSettings] = getattr(importlib.import_module(module), cls)
            field, _, nested = parts[2].lower().partition("__")
            assert field in settings.model_fields, f"{name}: {var['name']} is not a setting"
            if nested:
                assert nested in store_fields, f"{name}: {var['name']} is not a store setting"
    kafka_fields = set(KafkaSettings.model_fields)
    for name, container in containers(objects):
        for var in container["env"]:
            if var["name"].startswith("CRM_KAFKA_"):
                field = var["name"].removeprefix("CRM_KAFKA_").lower()
                assert field in kafka_fields, f"{name}: {var['name']} is not a Kafka setting"


def test_network_policies_deny_by_default_and_open_each_api_to_the_ingress_only(
    objects: tuple[dict[str, Any], ...],
) -> None:
    policies = of_kind(objects, "NetworkPolicy")
    deny = [p for p in policies if p["metadata"]["name"].endswith("-default-deny")]
    assert len(deny) == 1
    assert deny[0]["spec"]["policyTypes"] == ["Ingress", "Egress"]
    assert "ingress" not in deny[0]["spec"]
    assert "egress" not in deny[0]["spec"]
    api_ingress = [p for p in policies if p["metadata"]["name"].endswith("-api-ingress")]
    assert len(api_ingress) == len([s for s in SERVICES if s.port_var])
    for policy in api_ingress:
        (rule,) = policy["spec"]["ingress"]
        assert rule["from"][0]["namespaceSelector"]["matchLabels"] == {"kubernetes.io/metadata.name": "ingress-nginx"}


# --- Custom resources, validated against their CRDs -------------------------------------------


def strict(schema: Any) -> Any:
    """A CRD schema that refuses unknown fields, like `kubectl apply --validate=strict`.

    The API server would silently prune a misspelt field; offline we want to hear about it, so
    every object schema with declared properties (and no preserve-unknown-fields) gets
    `additionalProperties: false`.
    """
    if isinstance(schema, list):
        return [strict(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    out = {key: strict(value) for key, value in schema.items()}
    if (
        "properties" in out
        and "additionalProperties" not in out
        and not out.get("x-kubernetes-preserve-unknown-fields")
    ):
        out["additionalProperties"] = False
    return out


@cache
def crd_schemas() -> dict[tuple[str, str], dict[str, Any]]:
    """(apiVersion, kind) → the strict OpenAPI v3 schema of every served CRD version in .local/crds."""
    files = sorted(CRDS.glob("*/*.yaml"))
    if not files:
        pytest.fail(f"no CRDs in {CRDS}: run deploy/local/crds.sh (fetches them from the Go module proxy and Maven)")
    schemas: dict[tuple[str, str], dict[str, Any]] = {}
    for file in files:
        for crd in yaml.safe_load_all(file.read_text()):
            if not crd or crd.get("kind") != "CustomResourceDefinition":
                continue
            group, kind = crd["spec"]["group"], crd["spec"]["names"]["kind"]
            for version in crd["spec"]["versions"]:
                if version.get("served", True):
                    schemas[(f"{group}/{version['name']}", kind)] = strict(version["schema"]["openAPIV3Schema"])
    return schemas


def custom_resources(objects: tuple[dict[str, Any], ...]) -> list[dict[str, Any]]:
    builtin_groups = ("", "apps", "batch", "policy", "autoscaling")
    return [
        o
        for o in objects
        if "/" in o["apiVersion"]
        and o["apiVersion"].split("/")[0] not in builtin_groups
        and not o["apiVersion"].split("/")[0].endswith(".k8s.io")
    ]


def crd_errors(obj: dict[str, Any]) -> list[str]:
    """Why `obj` does not match its CRD (empty when it does); an object without a CRD is an error too."""
    schema = crd_schemas().get((obj["apiVersion"], obj["kind"]))
    if schema is None:
        return [f"no CRD for {obj['apiVersion']} {obj['kind']} in {CRDS} (add it to deploy/local/crds.sh)"]
    validator = jsonschema.Draft4Validator(schema)
    return [f"{'.'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(obj)]


def test_every_custom_resource_is_valid_against_its_crd(objects: tuple[dict[str, Any], ...]) -> None:
    custom = custom_resources(objects)
    assert custom, "at least the projector's ScaledObject"
    for obj in custom:
        errors = crd_errors(obj)
        assert not errors, f"{obj['kind']}/{obj['metadata']['name']}: {errors}"


def test_the_evaluation_values_render_every_kind_of_custom_resource() -> None:
    kinds = {(o["apiVersion"], o["kind"]) for o in custom_resources(render(*VARIANTS["evaluation"]))}
    assert kinds == {
        ("keda.sh/v1alpha1", "ScaledObject"),
        ("keda.sh/v1alpha1", "TriggerAuthentication"),
        ("kafka.strimzi.io/v1", "Kafka"),
        ("kafka.strimzi.io/v1", "KafkaNodePool"),
        ("kafka.strimzi.io/v1", "KafkaTopic"),
        ("kafka.strimzi.io/v1", "KafkaUser"),
        ("postgresql.cnpg.io/v1", "Cluster"),
    }
    production = {o["kind"] for o in custom_resources(render(*VARIANTS["production"]))}
    assert production == {"ScaledObject", "ServiceMonitor"}


@pytest.mark.parametrize(
    ("kind", "mistake"),
    [
        ("ScaledObject", lambda o: o["spec"].update(maxReplicaCout=3)),
        ("KafkaUser", lambda o: o["spec"]["authorization"]["acls"][0].update(operations=["Publish"])),
        ("Cluster", lambda o: o["spec"].update(instances="three")),
        ("Kafka", lambda o: o["spec"]["kafka"]["listeners"][0].pop("tls")),
    ],
)
def test_the_crd_validation_catches_a_broken_resource(kind: str, mistake: Any) -> None:
    """The validation is not vacuous: a misspelt field, a bad enum, a wrong type, a missing field fail."""
    (obj, *_) = [o for o in render(*VARIANTS["evaluation"]) if o["kind"] == kind]
    broken = copy.deepcopy(obj)
    mistake(broken)
    assert not crd_errors(obj)
    assert crd_errors(broken)


# --- Evaluation dependencies: Strimzi, CloudNativePG, MongoDB -----------------------------------


def evaluation() -> tuple[dict[str, Any], ...]:
    return render(*VARIANTS["evaluation"])


def test_the_dependencies_are_off_by_default_and_in_production() -> None:
    for variant in ("default", "production"):
        kinds = {o["kind"] for o in render(*VARIANTS[variant])}
        assert not kinds & {"Kafka", "KafkaTopic", "KafkaUser", "Cluster", "StatefulSet"}, variant


def test_the_kafka_topics_are_exactly_those_of_shared_events_topics() -> None:
    """The values list of topics, the rendered KafkaTopics and shared/events/topics.py agree."""
    expected = {t.name: t for t in all_topics()}
    cluster = of_kind(evaluation(), "Kafka")[0]["metadata"]["name"]
    assert values()["strimzi"]["topics"] == [t.name for t in all_topics()]
    topics = of_kind(evaluation(), "KafkaTopic")
    assert {t["spec"]["topicName"] for t in topics} == set(expected)
    for topic in topics:
        spec = expected[topic["spec"]["topicName"]]
        assert topic["spec"]["partitions"] == spec.partitions == PARTITIONS
        assert {k: str(v) for k, v in topic["spec"]["config"].items()} == spec.configs
        assert topic["metadata"]["labels"]["strimzi.io/cluster"] == cluster
    prefixed = render(*VARIANTS["evaluation"], "--set", "kafka.topicPrefix=prod.")
    assert {t["spec"]["topicName"] for t in of_kind(prefixed, "KafkaTopic")} == {f"prod.{name}" for name in expected}


def test_the_kafka_cluster_is_kraft_with_a_tls_scram_listener_on_9093() -> None:
    (kafka,) = of_kind(evaluation(), "Kafka")
    (pool,) = of_kind(evaluation(), "KafkaNodePool")
    assert pool["metadata"]["labels"]["strimzi.io/cluster"] == kafka["metadata"]["name"]
    assert set(pool["spec"]["roles"]) == {"controller", "broker"}, "KRaft: no ZooKeeper"
    (listener,) = kafka["spec"]["kafka"]["listeners"]
    assert (listener["port"], listener["tls"], listener["authentication"]["type"]) == (9093, True, "scram-sha-512")
    assert kafka["spec"]["kafka"]["authorization"]["type"] == "simple", "the KafkaUsers' ACLs are enforced"
    assert {"topicOperator", "userOperator"} <= kafka["spec"]["entityOperator"].keys()


def consumed_streams(service: str) -> set[str]:
    """The streams a service's consumers read, from the event modules its code imports."""
    if service == "analytics":
        return {s.split(".")[1] for s in STREAMS}
    names = {s.split(".")[1] for s in STREAMS}
    tree = ast.parse((ROOT / "services" / service / "consumers.py").read_text())
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            if node.module == "shared.events":
                found |= {alias.name for alias in node.names} & names
            elif node.module.startswith("shared.events."):
                found |= {node.module.split(".")[2]} & names
    return found


def test_each_kafka_user_may_touch_only_its_own_topics_and_group() -> None:
    objects = evaluation()
    users = {u["metadata"]["labels"]["crm/service"]: u for u in of_kind(objects, "KafkaUser")}
    assert set(users) == set(SETTINGS)
    topics = {t["spec"]["topicName"] for t in of_kind(objects, "KafkaTopic")}
    for service, user in users.items():
        assert user["spec"]["authentication"]["type"] == "scram-sha-512"
        acls = user["spec"]["authorization"]["acls"]
        writes = {a["resource"]["name"] for a in acls if "Write" in a["operations"]}
        reads = {a["resource"]["name"] for a in acls if a["resource"]["type"] == "topic" and "Read" in a["operations"]}
        groups = [a["resource"] for a in acls if a["resource"]["type"] == "group"]
        own_stream = {f"crm.{service}.v1"} if values()["services"][service].get("store") else set()
        assert writes == own_stream | {f"crm.dlq.{service}.v1"}, service
        assert reads == {f"crm.{s}.v1" for s in consumed_streams(service)}, f"{service}: consumes in values.yaml"
        assert writes | reads <= topics, f"{service}: an ACL names a topic the chart does not create"
        assert all(a["resource"]["patternType"] == "literal" for a in acls if a["resource"]["type"] == "topic")
        assert [g["name"] for g in groups] == [service], service
        assert not any(op in a["operations"] for a in acls for op in ("All", "Create", "Delete", "Alter"))
        assert not any(a["resource"]["type"] == "cluster" for a in acls)


def test_with_strimzi_every_process_talks_sasl_ssl_with_its_own_user() -> None:
    objects = evaluation()
    (kafka,) = of_kind(objects, "Kafka")
    cluster = kafka["metadata"]["name"]
    users = {u["metadata"]["labels"]["crm/service"]: u["metadata"]["name"] for u in of_kind(objects, "KafkaUser")}
    specs = {o["metadata"]["name"]: o["spec"]["template"]["spec"] for o in objects if o["kind"] in WORKLOADS}
    processes = crm_containers(objects)
    assert processes
    for name, service, container in processes:
        env = env_of(container)
        assert env["CRM_KAFKA_BOOTSTRAP_SERVERS"]["value"] == f"{cluster}-kafka-bootstrap.crm.svc:9093", name
        assert env["CRM_KAFKA_SECURITY_PROTOCOL"]["value"] == "SASL_SSL", name
        assert env["CRM_KAFKA_SASL_MECHANISM"]["value"] == "SCRAM-SHA-512", name
        assert env["CRM_KAFKA_SASL_USERNAME"]["value"] == users[service], name
        assert env["CRM_KAFKA_SASL_PASSWORD"]["valueFrom"]["secretKeyRef"] == {
            "name": users[service],
            "key": "password",
        }
        cafile = Path(env["CRM_KAFKA_SSL_CAFILE"]["value"])
        (mount,) = [m for m in container["volumeMounts"] if m["mountPath"] == str(cafile.parent)]
        (volume,) = [v for v in specs[name]["volumes"] if v["name"] == mount["name"]]
        assert volume["secret"]["secretName"] == f"{cluster}-cluster-ca-cert"
        assert volume["secret"]["items"] == [{"key": "ca.crt", "path": cafile.name}]
    (scaled,) = of_kind(objects, "ScaledObject")
    (trigger,) = scaled["spec"]["triggers"]
    assert (trigger["metadata"]["sasl"], trigger["metadata"]["tls"]) == ("scram_sha512", "enable")
    (auth,) = of_kind(objects, "TriggerAuthentication")
    assert trigger["authenticationRef"]["name"] == auth["metadata"]["name"]
    assert {r["parameter"]: r["name"] for r in auth["spec"]["secretTargetRef"]} == {
        "password": users["analytics"],
        "ca": f"{cluster}-cluster-ca-cert",
    }


def test_without_strimzi_the_kafka_security_comes_from_values() -> None:
    plaintext = crm_containers(render())
    assert all("CRM_KAFKA_SECURITY_PROTOCOL" not in env_of(c) for _, _, c in plaintext)
    objects = render(
        "--set", "kafka.security.protocol=SASL_SSL",
        "--set", "kafka.security.caSecret=kafka-ca",
        "--set", "kafka.security.existingSecret=kafka-credentials",
        "--set", "kafka.security.usernames.sales=sales-svc",
    )  # fmt: skip
    for name, service, container in crm_containers(objects):
        env = env_of(container)
        assert env["CRM_KAFKA_SECURITY_PROTOCOL"]["value"] == "SASL_SSL"
        assert env["CRM_KAFKA_SASL_USERNAME"]["value"] == ("sales-svc" if service == "sales" else f"crm-{service}")
        assert env["CRM_KAFKA_SASL_PASSWORD"]["valueFrom"]["secretKeyRef"] == {
            "name": "kafka-credentials",
            "key": f"{service}-kafka-password",
        }, name
        assert env["CRM_KAFKA_SSL_CAFILE"]["value"] == "/etc/crm/kafka-ca/ca.crt"
    (scaled,) = of_kind(objects, "ScaledObject")
    (trigger,) = scaled["spec"]["triggers"]
    assert (trigger["metadata"]["sasl"], trigger["metadata"]["tls"]) == ("scram_sha512", "enable")
    (auth,) = of_kind(objects, "TriggerAuthentication")
    assert {(r["parameter"], r["name"], r["key"]) for r in auth["spec"]["secretTargetRef"]} == {
        ("password", "kafka-credentials", "analytics-kafka-password"),
        ("ca", "kafka-ca", "ca.crt"),
    }
    assert not crd_errors(scaled)
    assert not crd_errors(auth)


def test_an_unknown_kafka_security_protocol_is_refused() -> None:
    result = run_helm(
        "template", "crm", str(CHART), "--kube-version", KUBE_VERSION, "--set", "kafka.security.protocol=sasl_ssl"
    )
    assert result.returncode != 0
    assert "kafka.security.protocol must be PLAINTEXT, SSL, SASL_PLAINTEXT or SASL_SSL" in result.stderr


def test_each_service_store_is_its_own_cloudnativepg_cluster() -> None:
    objects = evaluation()
    clusters = {c["metadata"]["labels"]["crm/service"]: c for c in of_kind(objects, "Cluster")}
    assert set(clusters) == {svc for svc, cfg in values()["services"].items() if cfg.get("store")}
    for service, cluster in clusters.items():
        initdb = cluster["spec"]["bootstrap"]["initdb"]
        assert initdb == {"database": f"crm_{service}", "owner": f"crm_{service}"}
    for name, service, container in crm_containers(objects):
        env = env_of(container)
        prefix = f"CRM_{service.upper()}_STORE__"
        if service not in clusters:
            assert not any(var.startswith(prefix) for var in env), name
            continue
        cluster = clusters[service]["metadata"]["name"]
        assert env[f"{prefix}POSTGRES_HOST"]["value"] == f"{cluster}-rw", name
        assert env[f"{prefix}POSTGRES_DB"]["value"] == f"crm_{service}"
        assert env[f"{prefix}POSTGRES_USER"]["value"] == f"crm_{service}"
        assert env[f"{prefix}POSTGRES_PASSWORD"]["valueFrom"]["secretKeyRef"] == {
            "name": f"{cluster}-app",
            "key": "password",
        }


def test_the_mongodb_statefulset_is_pinned_persistent_and_reads_its_credentials_from_the_secret() -> None:
    objects = evaluation()
    (mongo,) = of_kind(objects, "StatefulSet")
    (container,) = mongo["spec"]["template"]["spec"]["containers"]
    repository, _, tag = container["image"].rpartition(":")
    assert repository.endswith("/mongo")
    assert tag not in {"", "latest"}
    assert tag[0].isdigit()
    assert container["securityContext"]["runAsUser"] >= 10000
    assert {m["mountPath"] for m in container["volumeMounts"]} == {"/tmp", "/data/configdb", "/data/db"}  # noqa: S108
    (claim,) = mongo["spec"]["volumeClaimTemplates"]
    assert claim["metadata"]["name"] == "data"
    env = env_of(container)
    for var in ("MONGO_INITDB_ROOT_USERNAME", "MONGO_INITDB_ROOT_PASSWORD"):
        assert env[var]["valueFrom"]["secretKeyRef"]["name"] == "crm-secrets"
    (service,) = [s for s in of_kind(objects, "Service") if s["metadata"]["name"] == mongo["spec"]["serviceName"]]
    assert service["spec"]["selector"] == mongo["spec"]["selector"]["matchLabels"]


# --- Network paths with the evaluation dependencies on -----------------------------------------


def egress_rules(objects: tuple[dict[str, Any], ...], labels: dict[str, str]) -> list[dict[str, Any]]:
    """Every egress rule of every NetworkPolicy that selects a pod with `labels`."""
    rules: list[dict[str, Any]] = []
    for policy in of_kind(objects, "NetworkPolicy"):
        selector = policy["spec"]["podSelector"]
        if "Egress" in policy["spec"]["policyTypes"] and selects(selector, labels):
            rules.extend(policy["spec"].get("egress", []))
    return rules


def selects(selector: dict[str, Any], labels: dict[str, str]) -> bool:
    if any(labels.get(k) != v for k, v in selector.get("matchLabels", {}).items()):
        return False
    for expr in selector.get("matchExpressions", []):
        present = expr["key"] in labels
        if expr["operator"] == "Exists" and not present:
            return False
        if expr["operator"] == "In" and labels.get(expr["key"]) not in expr["values"]:
            return False
    return True


def test_with_the_dependencies_each_service_reaches_only_kafka_9093_and_its_own_database() -> None:
    objects = evaluation()
    (kafka,) = of_kind(objects, "Kafka")
    own_db = {c["metadata"]["labels"]["crm/service"]: c["metadata"]["name"] for c in of_kind(objects, "Cluster")}
    (mongo,) = of_kind(objects, "StatefulSet")
    for workload in (o for o in objects if o["kind"] == "Deployment"):
        labels = workload["spec"]["template"]["metadata"]["labels"]
        service = labels["crm/service"]
        for rule in egress_rules(objects, labels):
            for peer in rule["to"]:
                ports = {p["port"] for p in rule["ports"]}
                target = peer.get("podSelector", {}).get("matchLabels", {})
                if target.get("k8s-app") == "kube-dns":
                    assert ports == {53}
                elif "strimzi.io/cluster" in target:
                    assert target["strimzi.io/cluster"] == kafka["metadata"]["name"]
                    assert ports == {9093}
                elif "cnpg.io/cluster" in target:
                    assert target["cnpg.io/cluster"] == own_db[service], f"{service} reaches another database"
                    assert ports == {5432}
                elif target.get("app.kubernetes.io/component") == "mongodb":
                    assert service == "analytics"
                    assert ports == {27017}
                elif target.get("app.kubernetes.io/component", "").endswith("-api"):
                    assert service == "marketing"
                    assert target["app.kubernetes.io/component"] == "analytics-api"
                else:
                    assert labels["app.kubernetes.io/component"] == "marketing-sender", f"{service}: {peer}"
                    assert ports == {values()["services"]["marketing"]["smtp"]["port"]}
    mongo_labels = mongo["spec"]["template"]["metadata"]["labels"]
    assert not egress_rules(objects, mongo_labels), "MongoDB needs no egress"
    mongo_ingress = [
        rule
        for p in of_kind(objects, "NetworkPolicy")
        if selects(p["spec"]["podSelector"], mongo_labels)
        for rule in p["spec"].get("ingress", [])
    ]
    assert [r["from"][0]["podSelector"]["matchLabels"]["crm/service"] for r in mongo_ingress] == ["analytics"]
    assert mongo_ingress[0]["ports"] == [{"protocol": "TCP", "port": 27017}]
    for service, cluster in own_db.items():
        (policy,) = [p for p in of_kind(objects, "NetworkPolicy") if p["metadata"]["name"] == f"{cluster}-ingress"]
        assert policy["spec"]["podSelector"]["matchLabels"] == {"cnpg.io/cluster": cluster}
        clients = policy["spec"]["ingress"][0]
        assert clients["from"][0]["podSelector"]["matchLabels"]["crm/service"] == service
        assert {p["port"] for p in clients["ports"]} == {5432}


def test_only_the_marketing_sender_reaches_the_smtp_relay(objects: tuple[dict[str, Any], ...]) -> None:
    smtp = values()["services"]["marketing"]["smtp"]
    (policy,) = [p for p in of_kind(objects, "NetworkPolicy") if p["metadata"]["name"].endswith("-sender-egress")]
    assert policy["spec"]["podSelector"]["matchLabels"]["app.kubernetes.io/component"] == "marketing-sender"
    (rule,) = policy["spec"]["egress"]
    assert rule == {"to": smtp["to"], "ports": [{"protocol": "TCP", "port": smtp["port"]}]}
    (sender,) = [d for d in of_kind(objects, "Deployment") if d["metadata"]["name"].endswith("-marketing-sender")]
    env = env_of(sender["spec"]["template"]["spec"]["containers"][0])
    assert env["CRM_MARKETING_SMTP_HOST"]["value"] == smtp["host"]
    assert env["CRM_MARKETING_SMTP_PORT"]["value"] == str(smtp["port"])
    with_sms = render(
        "--set", "services.marketing.sms.gatewayUrl=https://sms.example.com/send",
        "--set", "services.marketing.sms.to[0].ipBlock.cidr=198.51.100.7/32",
    )  # fmt: skip
    (policy,) = [p for p in of_kind(with_sms, "NetworkPolicy") if p["metadata"]["name"].endswith("-sender-egress")]
    assert [r["ports"][0]["port"] for r in policy["spec"]["egress"]] == [smtp["port"], 443]


def test_a_sender_without_a_declared_smtp_destination_is_refused() -> None:
    """An empty `to` would open egress to everywhere; the chart refuses it instead."""
    result = run_helm(
        "template", "crm", str(CHART), "--kube-version", KUBE_VERSION, "--set", "services.marketing.smtp.to=null"
    )
    assert result.returncode != 0
    assert "services.marketing.smtp.to must name where the SMTP relay is" in result.stderr


# --- ServiceMonitors ----------------------------------------------------------------------------


def test_service_monitors_scrape_every_api_relay_and_the_projector_in_production() -> None:
    assert not of_kind(render(), "ServiceMonitor"), "off by default"
    objects = render(*VARIANTS["production"])
    monitors = of_kind(objects, "ServiceMonitor")
    services = of_kind(objects, "Service")
    scraped: set[str] = set()
    for monitor in monitors:
        assert monitor["metadata"]["labels"]["release"] == "kube-prometheus-stack"
        (endpoint,) = monitor["spec"]["endpoints"]
        assert endpoint["path"] == "/metrics"
        (service,) = [s for s in services if selects(monitor["spec"]["selector"], s["metadata"]["labels"])]
        assert endpoint["port"] in {p["name"] for p in service["spec"]["ports"]}
        (workload,) = [
            d
            for d in of_kind(objects, "Deployment")
            if selects({"matchLabels": service["spec"]["selector"]}, d["spec"]["template"]["metadata"]["labels"])
        ]
        port = next(p for p in service["spec"]["ports"] if p["name"] == endpoint["port"])
        container_ports = {p["name"] for p in workload["spec"]["template"]["spec"]["containers"][0]["ports"]}
        assert port["targetPort"] in container_ports
        scraped.add(workload["spec"]["template"]["metadata"]["labels"]["crm/role"] + ":" + workload["metadata"]["name"])
    roles = [r.split(":")[0] for r in scraped]
    assert roles.count("api") == len(of_role(objects, "api"))
    assert roles.count("relay") == len(of_role(objects, "relay"))
    assert roles.count("projector") == 1
    for deployment in of_kind(objects, "Deployment"):
        if deployment["spec"]["template"]["metadata"]["labels"]["crm/role"] != "worker":
            assert deployment["spec"]["template"]["metadata"]["annotations"]["prometheus.io/scrape"] == "true"


# --- Kustomize overlays -------------------------------------------------------------------------


def kustomize() -> str:
    return tool("kustomize", "deploy/kustomize/kustomize.sh")


@pytest.mark.parametrize("overlay", ["evaluation", "production"])
def test_each_kustomize_overlay_inflates_the_chart_with_its_values(overlay: str) -> None:
    """`kustomize build --enable-helm` of an overlay gives exactly what `helm template` gives."""
    result = subprocess.run(
        [
            kustomize(),
            "build",
            "--enable-helm",
            "--helm-command",
            helm(),
            "--load-restrictor",
            "LoadRestrictionsNone",
            str(ROOT / "deploy" / "kustomize" / "overlays" / overlay),
        ],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    built = [doc for doc in yaml.safe_load_all(result.stdout) if doc]

    def key(obj: dict[str, Any]) -> tuple[str, str]:
        return obj["kind"], obj["metadata"]["name"]

    assert sorted(built, key=key) == sorted(render(*VARIANTS[overlay]), key=key)


CHECKOV = "checkov==3.3.30"
"""Run from PyPI through `uv tool run` (its dependencies would clash with the project's)."""
EXPLAINED = {
    "CKV_K8S_43": "image by tag, not digest: default and evaluation values stay readable; production pins digests",
    "CKV_K8S_15": "pull policy IfNotPresent by tag in the default values (local clusters); production pins digests",
}
"""Every check Checkov may fail, and why that is accepted; anything else fails the test."""


def _uv() -> str:
    return tool("uv", "`make install`")


@pytest.mark.parametrize("variant", list(VARIANTS))
def test_checkov_leaves_no_failed_check_unexplained(variant: str, tmp_path: Path) -> None:
    manifest = tmp_path / "crm.yaml"
    manifest.write_text(yaml.safe_dump_all(render(*VARIANTS[variant])))
    command = [_uv(), "tool", "run", "--from", CHECKOV, "checkov", "-f", str(manifest)]
    command += ["--framework", "kubernetes", "--output", "json", "--quiet", "--compact"]
    done = subprocess.run(command, capture_output=True, text=True, check=False, timeout=600)
    assert done.stdout.strip(), f"checkov printed nothing (exit {done.returncode}): {done.stderr[-2000:]}"
    report = json.loads(done.stdout)
    reports = report if isinstance(report, list) else [report]
    failed = [c for r in reports for c in r.get("results", {}).get("failed_checks", [])]
    unexplained = sorted({(c["check_id"], c["resource"]) for c in failed if c["check_id"] not in EXPLAINED})
    assert unexplained == [], unexplained
    if variant == "production":
        assert failed == [], "the production values leave nothing to explain"


def test_a_master_key_rotation_gives_every_store_process_the_previous_keys() -> None:
    """During a rotation (docs/deploy.md) the old master key opens, from the Secret; otherwise it is absent."""
    rotating = render("--set", "secretKeys.keysPreviousMasterKeys=keys-previous-master-keys")
    with_store = [c for _, _, c in crm_containers(rotating) if "CRM_KEYS_MASTER_KEY" in env_of(c)]
    assert with_store
    for container in with_store:
        ref = env_of(container)["CRM_KEYS_PREVIOUS_MASTER_KEYS"]["valueFrom"]["secretKeyRef"]
        assert (ref["name"], ref["key"]) == ("crm-secrets", "keys-previous-master-keys")
    assert not any("CRM_KEYS_PREVIOUS_MASTER_KEYS" in env_of(c) for _, _, c in crm_containers(render()))
