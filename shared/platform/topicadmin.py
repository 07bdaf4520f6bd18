"""Topics as code: create the platform's topics with their partitions and configs."""

from __future__ import annotations

from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from shared.events.topics import TopicSpec, all_topics
from shared.platform.kafka import KafkaSettings


async def ensure_topics(kafka: KafkaSettings, specs: list[TopicSpec] | None = None) -> list[str]:
    """Create the missing topics among `specs` (default: all); the names it created."""
    wanted = {kafka.topic(s.name): s for s in (specs or all_topics())}
    admin = AIOKafkaAdminClient(bootstrap_servers=kafka.bootstrap_servers.split(","), client_id="crm-topics")
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        missing = [
            NewTopic(name, spec.partitions, kafka.replication_factor, topic_configs=spec.configs)
            for name, spec in sorted(wanted.items())
            if name not in existing
        ]
        if missing:
            await admin.create_topics(missing)
        return [t.name for t in missing]
    finally:
        await admin.close()


async def delete_topics(kafka: KafkaSettings, specs: list[TopicSpec] | None = None) -> None:
    """Delete the topics among `specs` (default: all) that exist, e.g. a test's prefixed ones."""
    names = {kafka.topic(s.name) for s in (specs or all_topics())}
    admin = AIOKafkaAdminClient(bootstrap_servers=kafka.bootstrap_servers.split(","), client_id="crm-topics")
    await admin.start()
    try:
        existing = sorted(names & set(await admin.list_topics()))
        if existing:
            await admin.delete_topics(existing)
    finally:
        await admin.close()
