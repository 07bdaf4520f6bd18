"""Topics as code: create the platform's topics, describe them, and repair config drift.

The specs in `shared/events/topics.py` (partitions, retention, cleanup policy) plus the
replication settings of `KafkaSettings` are the truth. `describe_topics` compares each
topic on the cluster with them; `reconcile_topics` (behind `crm topics ensure`) creates
what is missing and sets drifted configs back with AlterConfigs. Partition count and
replication factor are only reported, never changed: adding partitions would move
customers to other partitions and break their ordering, and reassigning replicas is a
cluster operation with its own plan.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType

from shared.events.topics import TopicSpec, all_topics
from shared.platform.kafka import KafkaSettings

DYNAMIC_TOPIC_CONFIG = 1
"""Kafka's `config_source` of a config set on the topic itself (not a broker or default value)."""
_TOPIC_ALREADY_EXISTS = 36


class TopicAdminError(RuntimeError):
    """Kafka refused a topic operation (the message carries its error code and text)."""


def min_insync_replicas(replication_factor: int) -> int:
    """In-sync replicas an `acks=all` write needs: all but one, so one replica may be down without refusing writes."""
    return max(1, replication_factor - 1)


def wanted_configs(spec: TopicSpec, kafka: KafkaSettings) -> dict[str, str]:
    """The configs the platform sets on a topic: the spec's plus `min.insync.replicas` from the replication factor."""
    return spec.configs | {"min.insync.replicas": str(min_insync_replicas(kafka.replication_factor))}


@dataclass(frozen=True)
class TopicState:
    """One platform topic as the cluster has it, next to what the code wants."""

    name: str
    """Physical name (with the topic prefix)."""
    exists: bool
    wanted_partitions: int
    wanted_replication_factor: int
    wanted_configs: dict[str, str]
    partitions: int = 0
    replication_factor: int = 0
    configs: dict[str, str | None] = field(default_factory=dict)
    """Effective value on the cluster of every wanted config (None if the broker does not report it)."""
    overrides: dict[str, str] = field(default_factory=dict)
    """Every config set on the topic itself, managed or not (kept when drift is repaired)."""

    def config_drift(self) -> dict[str, tuple[str | None, str]]:
        """Wanted configs whose effective value differs: key → (actual, wanted)."""
        if not self.exists:
            return {}
        return {k: (self.configs.get(k), v) for k, v in sorted(self.wanted_configs.items()) if self.configs.get(k) != v}

    def drift(self) -> list[str]:
        """Every difference from the code, in words (empty when the topic is as wanted)."""
        if not self.exists:
            return ["missing"]
        found = [f"{key}={actual} (wanted {wanted})" for key, (actual, wanted) in self.config_drift().items()]
        if self.partitions != self.wanted_partitions:
            found.insert(0, f"partitions={self.partitions} (wanted {self.wanted_partitions})")
        if self.replication_factor != self.wanted_replication_factor:
            found.insert(0, f"replication.factor={self.replication_factor} (wanted {self.wanted_replication_factor})")
        return found

    @property
    def healthy(self) -> bool:
        """The topic exists and nothing drifts."""
        return not self.drift()

    def as_json(self) -> dict[str, Any]:
        """Script-friendly shape."""
        return {
            "topic": self.name,
            "exists": self.exists,
            "partitions": self.partitions,
            "wanted_partitions": self.wanted_partitions,
            "replication_factor": self.replication_factor,
            "wanted_replication_factor": self.wanted_replication_factor,
            "configs": self.configs,
            "wanted_configs": self.wanted_configs,
            "drift": self.drift(),
            "healthy": self.healthy,
        }


@dataclass(frozen=True)
class Reconciliation:
    """What `reconcile_topics` did, and the topics as they stand afterwards."""

    created: list[str]
    repaired: dict[str, list[str]]
    """Topic → config keys set back to their wanted value."""
    topics: list[TopicState]

    @property
    def unfixable(self) -> list[TopicState]:
        """Topics still drifting (partition count or replication factor, which are never changed here)."""
        return [t for t in self.topics if not t.healthy]


@asynccontextmanager
async def admin_client(kafka: KafkaSettings) -> AsyncIterator[AIOKafkaAdminClient]:
    """A started admin client with the platform's connection and security settings."""
    admin = AIOKafkaAdminClient(
        bootstrap_servers=kafka.bootstrap_servers.split(","),
        client_id="crm-topics",
        request_timeout_ms=kafka.request_timeout_ms,
        **kafka.client_options(),
    )
    await admin.start()
    try:
        yield admin
    finally:
        await admin.close()


def _wanted(kafka: KafkaSettings, specs: list[TopicSpec] | None) -> dict[str, TopicSpec]:
    return {kafka.topic(s.name): s for s in (specs or all_topics())}


async def _describe(admin: AIOKafkaAdminClient, kafka: KafkaSettings, wanted: dict[str, TopicSpec]) -> list[TopicState]:
    """Partitions, replication and configs of each wanted topic; only existing ones are asked about.

    Listing first matters: a metadata request naming a missing topic may auto-create it
    (with the broker's defaults) on clusters where auto-creation is on.
    """
    existing = sorted(set(wanted) & set(await admin.list_topics()))
    layout = {t["topic"]: t for t in await admin.describe_topics(existing)} if existing else {}
    entries: dict[str, list[dict[str, Any]]] = {}
    if existing:
        resources = [ConfigResource(ConfigResourceType.TOPIC, name) for name in existing]
        for response in await admin.describe_configs(resources):
            for resource in response.to_object()["resources"]:
                _raise_on_error(resource, "describe configs of")
                entries[resource["resource_name"]] = resource["config_entries"]
    states = []
    for name, spec in sorted(wanted.items()):
        configs = wanted_configs(spec, kafka)
        base = TopicState(name, name in existing, spec.partitions, kafka.replication_factor, configs)
        if not base.exists:
            states.append(base)
            continue
        partitions = layout.get(name, {}).get("partitions", [])
        values = {e["config_names"]: e["config_value"] for e in entries.get(name, [])}
        overrides = {
            e["config_names"]: e["config_value"]
            for e in entries.get(name, [])
            if e["config_source"] == DYNAMIC_TOPIC_CONFIG and e["config_value"] is not None
        }
        states.append(
            TopicState(
                name,
                True,
                spec.partitions,
                kafka.replication_factor,
                configs,
                partitions=len(partitions),
                replication_factor=min((len(p["replicas"]) for p in partitions), default=0),
                configs={key: values.get(key) for key in configs},
                overrides=overrides,
            )
        )
    return states


def _raise_on_error(result: dict[str, Any], doing: str) -> None:
    code = result.get("error_code", 0)
    if code:
        name = result.get("resource_name") or result.get("topic")
        raise TopicAdminError(f"Kafka refused to {doing} {name}: error {code} {result.get('error_message') or ''}")


async def describe_topics(kafka: KafkaSettings, specs: list[TopicSpec] | None = None) -> list[TopicState]:
    """Each topic among `specs` (default: all the platform's) on the cluster, against its spec."""
    async with admin_client(kafka) as admin:
        return await _describe(admin, kafka, _wanted(kafka, specs))


async def reconcile_topics(kafka: KafkaSettings, specs: list[TopicSpec] | None = None) -> Reconciliation:
    """Create the missing topics and set drifted configs back; the topics as they stand afterwards.

    AlterConfigs replaces a topic's whole set of overrides, so the request carries the
    overrides the topic already has (an operator's `segment.ms`, say) with the wanted
    values on top: only drifted keys change.
    """
    wanted = _wanted(kafka, specs)
    async with admin_client(kafka) as admin:
        before = await _describe(admin, kafka, wanted)
        missing = [
            NewTopic(t.name, t.wanted_partitions, t.wanted_replication_factor, topic_configs=t.wanted_configs)
            for t in before
            if not t.exists
        ]
        if missing:
            response = await admin.create_topics(missing)
            for result in response.to_object()["topic_errors"]:
                if result["error_code"] != _TOPIC_ALREADY_EXISTS:
                    _raise_on_error(result, "create topic")
        drifted = [t for t in before if t.config_drift()]
        if drifted:
            resources = [
                ConfigResource(ConfigResourceType.TOPIC, t.name, t.overrides | t.wanted_configs) for t in drifted
            ]
            for altered in await admin.alter_configs(resources):
                for resource in altered.to_object()["resources"]:
                    _raise_on_error(resource, "alter configs of")
        changed = {t.name for t in missing} | {t.name for t in drifted}
        after = await _settled(admin, kafka, wanted, changed) if changed else before
    return Reconciliation(
        created=[t.name for t in missing], repaired={t.name: sorted(t.config_drift()) for t in drifted}, topics=after
    )


async def _settled(
    admin: AIOKafkaAdminClient, kafka: KafkaSettings, wanted: dict[str, TopicSpec], changed: set[str]
) -> list[TopicState]:
    """The topics after a change, once the cluster shows it (metadata and configs propagate within a second or so)."""
    deadline = asyncio.get_running_loop().time() + kafka.request_timeout_ms / 1000
    while True:
        states = await _describe(admin, kafka, wanted)
        pending = [t for t in states if t.name in changed and (not t.exists or not t.partitions or t.config_drift())]
        if not pending or asyncio.get_running_loop().time() > deadline:
            return states
        await asyncio.sleep(0.1)


async def ensure_topics(kafka: KafkaSettings, specs: list[TopicSpec] | None = None) -> list[str]:
    """Create the missing topics among `specs` (default: all) and repair config drift; the names it created."""
    return (await reconcile_topics(kafka, specs)).created


async def delete_topics(kafka: KafkaSettings, specs: list[TopicSpec] | None = None) -> None:
    """Delete the topics among `specs` (default: all) that exist, e.g. a test's prefixed ones."""
    names = {kafka.topic(s.name) for s in (specs or all_topics())}
    async with admin_client(kafka) as admin:
        existing = sorted(names & set(await admin.list_topics()))
        if existing:
            await admin.delete_topics(existing)
