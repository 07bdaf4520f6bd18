"""The Helm chart (deploy/helm/crm) renders objects Kubernetes accepts and that keep the platform's rules.

Rendered offline with `helm template` for the default values and the production values
file, validated against the Kubernetes schemas bundled with `kubernetes-validate`, then
checked for the invariants the platform promises: probes, limits, a locked-down security
context everywhere, single-active relays, lag-scaled projectors bounded by partitions,
and credentials that only ever come from an existing Secret.
"""

from __future__ import annotations

import importlib
import os
import shutil
import subprocess
from functools import cache
from pathlib import Path
from typing import Any

import kubernetes_validate  # type: ignore[import-untyped]  # ships no type information
import pytest
import yaml
from pydantic_settings import BaseSettings

from crm.devstack import SERVICES
from shared.events.topics import PARTITIONS
from shared.platform.eventstore import EventStoreSettings

ROOT = Path(__file__).resolve().parents[1]
CHART = ROOT / "deploy" / "helm" / "crm"
PRODUCTION = CHART / "values-production.yaml"
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


def helm() -> str:
    """The helm binary; a clear failure (not a skip) when it is not installed."""
    found = shutil.which("helm", path=f"{ROOT / '.local' / 'tools' / 'bin'}{os.pathsep}{os.environ.get('PATH', '')}")
    if found is None:
        pytest.fail("helm is not installed: run deploy/local/helm.sh (installs it into .local/tools/bin)")
    return found


def run_helm(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([helm(), *args], capture_output=True, text=True, check=False, timeout=120)


@cache
def render(*extra: str) -> tuple[dict[str, Any], ...]:
    """Every object `helm template` renders with the given extra arguments."""
    result = run_helm("template", "crm", str(CHART), "--namespace", "crm", "--kube-version", KUBE_VERSION, *extra)
    assert result.returncode == 0, result.stderr
    return tuple(doc for doc in yaml.safe_load_all(result.stdout) if doc)


VARIANTS = {"default": (), "production": ("-f", str(PRODUCTION))}


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
    modules = {c["command"][-1] for _, c in containers(objects)}
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


def test_credentials_come_only_from_the_existing_secret(objects: tuple[dict[str, Any], ...]) -> None:
    assert not of_kind(objects, "Secret"), "the chart never renders a Secret"
    names = {o["metadata"]["name"] for o in objects}
    for name, container in containers(objects):
        for var in container["env"]:
            if any(word in var["name"] for word in SENSITIVE):
                assert "value" not in var, f"{name}: {var['name']} must come from a Secret"
                assert var["valueFrom"]["secretKeyRef"]["name"] not in names


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
