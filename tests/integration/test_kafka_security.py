"""The platform's Kafka clients against a broker that authenticates: SASL/SCRAM-SHA-512, with and without TLS.

The local broker (deploy/local/kafka.sh) has, besides the PLAINTEXT listener everything
else uses, a SASL_PLAINTEXT and a SASL_SSL listener with the SCRAM user `crm`;
deploy/local/stack-env.sh announces them as `CRM_TEST_KAFKA_*`. Like the other servers
(tests/integration/servers.py), a missing listener FAILS the run, it never skips: a
green run means the real SCRAM handshake and TLS verification were exercised.

All listeners belong to one broker, so topics created on PLAINTEXT by the `platform`
fixture are the ones the secured clients read and write.
"""

from __future__ import annotations

import asyncio
import logging
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from aiokafka.errors import KafkaConnectionError

from crm.dlq import read_topic
from crm.status import consumer_lags
from shared.events import EventEnvelope
from shared.events.customer import CustomerRegisteredV2
from shared.events.topics import CUSTOMER, TopicSpec
from shared.platform.consuming import EventConsumer
from shared.platform.kafka import KafkaSettings, kafka_ready, make_broker
from shared.platform.relaying import KafkaPublisher
from shared.platform.topicadmin import delete_topics, ensure_topics
from tests.integration.platform import Platform, count_records, eventually, read_records

LISTENER_ENV = (
    "CRM_TEST_KAFKA_SCRAM_BOOTSTRAP",
    "CRM_TEST_KAFKA_SCRAM_USERNAME",
    "CRM_TEST_KAFKA_SCRAM_PASSWORD_FILE",
    "CRM_TEST_KAFKA_SSL_BOOTSTRAP",
    "CRM_TEST_KAFKA_SSL_CAFILE",
)
PROTOCOLS = ["SASL_PLAINTEXT", "SASL_SSL"]
WRONG_PASSWORD = "not-the-password"


@dataclass(frozen=True)
class Listeners:
    """The SCRAM listeners of the local broker and the credentials of its user."""

    scram_bootstrap: str
    ssl_bootstrap: str
    username: str
    password: str
    cafile: str

    def settings(self, protocol: str, *, password: str | None = None, prefix: str = "") -> KafkaSettings:
        """Client settings for `protocol`, with the right password unless told otherwise."""
        return KafkaSettings.model_validate(self.env(protocol, password=password) | {"topic_prefix": prefix})

    def env(self, protocol: str, *, password: str | None = None) -> dict[str, str]:
        """The same as `CRM_KAFKA_*` fields (lower-case names) for a client of `protocol`."""
        return {
            "bootstrap_servers": self.ssl_bootstrap if protocol == "SASL_SSL" else self.scram_bootstrap,
            "security_protocol": protocol,
            "sasl_mechanism": "SCRAM-SHA-512",
            "sasl_username": self.username,
            "sasl_password": password or self.password,
            "ssl_cafile": self.cafile,
        }

    def process_env(self, protocol: str, *, password: str | None = None) -> dict[str, str]:
        """`CRM_KAFKA_*` variables that point a platform process at the listener of `protocol`."""
        return {f"CRM_KAFKA_{k.upper()}": v for k, v in self.env(protocol, password=password).items()}


@pytest.fixture(scope="session")
def listeners() -> Listeners:
    """The SCRAM listeners announced in the environment, or a failure that says how to get them."""
    missing = [name for name in LISTENER_ENV if not os.environ.get(name)]
    if missing:
        pytest.fail(
            f"{', '.join(missing)} not set: the local Kafka has no SCRAM listener. Restart it with the current "
            "deploy/local/kafka.sh (`deploy/local/down.sh kafka && deploy/local/up.sh kafka`), then source "
            ".local/stack.env",
            pytrace=False,
        )
    env = os.environ
    return Listeners(
        scram_bootstrap=env["CRM_TEST_KAFKA_SCRAM_BOOTSTRAP"],
        ssl_bootstrap=env["CRM_TEST_KAFKA_SSL_BOOTSTRAP"],
        username=env["CRM_TEST_KAFKA_SCRAM_USERNAME"],
        password=Path(env["CRM_TEST_KAFKA_SCRAM_PASSWORD_FILE"]).read_text(encoding="utf-8").strip(),
        cafile=env["CRM_TEST_KAFKA_SSL_CAFILE"],
    )


@pytest.fixture
def prefix(listeners: Listeners) -> Iterator[str]:
    """A topic prefix of this test; its topics are deleted afterwards (over SCRAM as well)."""
    run = f"sec{uuid.uuid4().hex[:10]}."
    yield run
    asyncio.run(delete_topics(listeners.settings("SASL_PLAINTEXT", prefix=run), [TopicSpec(CUSTOMER)]))


def registered(customer_id: uuid.UUID) -> EventEnvelope:
    """A public event as the customer relay would publish it (Chinese name: the bytes travel as UTF-8)."""
    event = CustomerRegisteredV2(
        customer_id=customer_id, name="张伟", emails=["zhang.wei@example.cn"], phones=[], source="web"
    )
    return EventEnvelope.wrap(
        event, source="customer", aggregate_id=customer_id, aggregate_version=1, time=datetime.now(UTC)
    )


@pytest.mark.parametrize("protocol", PROTOCOLS)
async def test_every_platform_client_works_with_the_right_password(
    listeners: Listeners, prefix: str, protocol: str
) -> None:
    kafka = listeners.settings(protocol, prefix=prefix)
    await kafka_ready(kafka, within=10)
    assert await ensure_topics(kafka, [TopicSpec(CUSTOMER)]) == [kafka.topic(CUSTOMER)]
    assert await ensure_topics(kafka, [TopicSpec(CUSTOMER)]) == [], "ensure is idempotent"

    received: asyncio.Queue[CustomerRegisteredV2] = asyncio.Queue()

    async def on_registered(_: EventEnvelope, event: CustomerRegisteredV2) -> None:
        await received.put(event)

    consumer = EventConsumer(group="security", handlers={CustomerRegisteredV2: on_registered}, kafka=kafka)
    broker = make_broker(kafka, client_id="it-security")
    consumer.subscribe(broker)
    customer_id = uuid.uuid4()
    await broker.start()
    try:
        await KafkaPublisher(broker, kafka)([registered(customer_id)])  # what the relays publish with
        event = await asyncio.wait_for(received.get(), 30)
    finally:
        await broker.stop()
    assert (event.customer_id, event.name) == (customer_id, "张伟")

    records = await read_topic(kafka, kafka.topic(CUSTOMER))  # crm dlq's admin + consumer
    assert [r.key for r in records] == [str(customer_id).encode()]
    assert {lag.group for lag in await consumer_lags(kafka, ("security",))} == {"security"}  # crm status
    assert await asyncio.to_thread(count_records, kafka, CUSTOMER) == 1  # the integration suite's own reader


@pytest.mark.parametrize("protocol", PROTOCOLS)
async def test_a_wrong_password_is_refused_clearly_by_every_client(
    listeners: Listeners, prefix: str, protocol: str, caplog: pytest.LogCaptureFixture
) -> None:
    kafka = listeners.settings(protocol, password=WRONG_PASSWORD, prefix=prefix)
    caplog.set_level(logging.ERROR, logger="aiokafka")
    with pytest.raises(KafkaConnectionError, match=f"over {protocol}, SCRAM-SHA-512 as 'crm'") as refused:
        await kafka_ready(kafka, within=10)
    assert WRONG_PASSWORD not in str(refused.value)
    assert "invalid credentials" in caplog.text, "aiokafka says why: authentication, not the network"
    with pytest.raises(KafkaConnectionError):
        await ensure_topics(kafka, [TopicSpec(CUSTOMER)])
    broker = make_broker(kafka, client_id="it-security-wrong")
    with pytest.raises(KafkaConnectionError):
        await broker.start()
    await broker.stop()
    with pytest.raises(KafkaConnectionError):
        await read_topic(kafka, kafka.topic(CUSTOMER))
    right = listeners.settings(protocol, prefix=prefix)
    assert await ensure_topics(right, [TopicSpec(CUSTOMER)]) == [right.topic(CUSTOMER)], "nothing was created"


async def test_tls_refuses_a_broker_whose_ca_is_not_trusted(listeners: Listeners) -> None:
    """Without the local CA (system CAs only) the handshake fails: the certificate is really verified."""
    kafka = listeners.settings("SASL_SSL").model_copy(update={"ssl_cafile": None})
    with pytest.raises(KafkaConnectionError, match="CA system default"):
        await kafka_ready(kafka, within=10)


@pytest.mark.parametrize("store_backend", ["sqlite"])
def test_the_customer_service_and_relay_run_over_scram_and_tls(platform: Platform, listeners: Listeners) -> None:
    """Real processes configured only through `CRM_KAFKA_*`: readiness and the relay go over SASL_SSL.

    (SASL_SSL only, the production setting: SASL_PLAINTEXT shares the code path and is
    covered in-process above; each process start costs seconds on the 2-core box.)
    """
    protocol = "SASL_SSL"
    platform.start("customer", **listeners.process_env(protocol))
    platform.start("customer-relay")
    ready = httpx.get(f"{platform.url('customer')}/readyz")
    assert ready.status_code == 200, ready.text
    response = httpx.post(
        f"{platform.url('customer')}/customers",
        json={"name": "张伟", "emails": ["zhang.wei@example.cn"], "phones": ["138 1234 5678"]},
        headers=platform.headers("sales_rep"),
    )
    assert response.status_code == 201, response.text
    secured = listeners.settings(protocol, prefix=platform.kafka.topic_prefix)
    records = eventually(lambda: read_records(secured, CUSTOMER), what="the relayed event, read over SCRAM")
    assert [r.key for r in records] == [response.json()["id"].encode()]


@pytest.mark.parametrize("store_backend", ["sqlite"])
def test_processes_fail_clearly_with_a_wrong_or_missing_password(platform: Platform, listeners: Listeners) -> None:
    platform.start("customer", **listeners.process_env("SASL_SSL", password=WRONG_PASSWORD))
    ready = httpx.get(f"{platform.url('customer')}/readyz", timeout=30)
    assert ready.status_code == 200, "Kafka is advisory for a write API: its outbox holds the events"
    assert "SASL_SSL, SCRAM-SHA-512 as 'crm'" in ready.json()["degraded"]["kafka"]
    assert WRONG_PASSWORD not in ready.text
    relay = subprocess.run(
        [sys.executable, "-m", "services.customer.relay"],
        env=platform.stack.env | {"CRM_KAFKA_SASL_PASSWORD": ""},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert relay.returncode != 0
    assert "CRM_KAFKA_SECURITY_PROTOCOL=SASL_SSL needs CRM_KAFKA_SASL_PASSWORD to be set" in relay.stderr
