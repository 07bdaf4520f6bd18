"""A Kafka outage delays the relay but loses nothing: proven on a broker of the test's own.

The test starts a second real broker (deploy/local/kafka.sh in a private folder, reusing
the jars the provisioning resolved), stops it while the relay publishes, and starts it
again on the same port and data.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from crm.devstack import ROOT
from shared.events import EventEnvelope
from shared.events.topics import CUSTOMER
from shared.platform.kafka import KafkaSettings
from shared.platform.topicadmin import ensure_topics
from tests.integration.platform import Platform, count_records, eventually, read_records
from tests.integration.test_delivery import register_many

SCRIPT = ROOT / "deploy" / "local" / "kafka.sh"


@dataclass
class OwnBroker:
    """A private Kafka broker that the test can stop and start."""

    local_dir: Path

    def run(self, action: str) -> None:
        env = {**os.environ, "CRM_LOCAL_DIR": str(self.local_dir)}
        subprocess.run(["bash", str(SCRIPT), action], env=env, check=True, capture_output=True, timeout=180)

    @property
    def bootstrap(self) -> str:
        return f"127.0.0.1:{(self.local_dir / 'kafka' / 'port').read_text().strip()}"


@pytest.fixture
def own_broker(tmp_path: Path) -> Iterator[OwnBroker]:
    shared_libs = Path(os.environ.get("CRM_LOCAL_DIR", ROOT / ".local")) / "kafka" / "libs"
    assert shared_libs.is_dir(), "run the suite through `make test`: it resolves Kafka's jars"
    broker = OwnBroker(tmp_path / "local")
    (broker.local_dir / "kafka").mkdir(parents=True)
    (broker.local_dir / "kafka" / "libs").symlink_to(shared_libs)
    broker.run("start")
    try:
        yield broker
    finally:
        broker.run("stop")


@pytest.mark.parametrize("store_backend", ["sqlite"])
def test_a_broker_outage_delays_publishing_but_loses_nothing(platform: Platform, own_broker: OwnBroker) -> None:
    kafka = KafkaSettings(bootstrap_servers=own_broker.bootstrap, topic_prefix=platform.kafka.topic_prefix)
    asyncio.run(ensure_topics(kafka))
    app = platform.store()
    before = register_many(app, 100)
    relay = platform.start("customer-relay", CRM_KAFKA_BOOTSTRAP_SERVERS=own_broker.bootstrap)
    eventually(lambda: count_records(kafka, CUSTOMER) >= 100, what="first events published")

    own_broker.run("stop")
    during = register_many(app, 100, offset=100)
    # aiokafka's idempotent producer keeps retrying the batch; the relay waits for the acks
    eventually(lambda: "Connect call failed" in relay.log.read_text(), timeout=60, what="relay hitting the outage")
    assert relay.process.poll() is None, "the relay keeps running through the outage"

    own_broker.run("start")
    eventually(lambda: count_records(kafka, CUSTOMER) >= 200, timeout=120, what="backlog published")
    subjects = {EventEnvelope.from_kafka(r.headers, r.value or b"").subject for r in read_records(kafka, CUSTOMER)}
    assert subjects == set(before + during)
