"""Kafka connection settings and the FastStream brokers built from them.

Every producer of the platform is idempotent with `acks=all`: a retried send never
duplicates or reorders a record within a partition, and an acknowledged record is on
every in-sync replica.

Security (TLS, SASL/SCRAM) lives in `KafkaSettings` too, so that every client of the
platform reaches a secured cluster the same way: FastStream brokers through
`make_broker` (which passes `KafkaSettings.security()`), bare aiokafka clients through
`**settings.client_options()`. A client built without either would silently talk
PLAINTEXT and fail against a production cluster; tests/test_architecture.py checks it.
"""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import Awaitable, Callable
from typing import Any, Literal

from aiokafka.client import AIOKafkaClient
from aiokafka.errors import KafkaConnectionError
from aiokafka.helpers import create_ssl_context
from faststream.kafka import KafkaBroker
from faststream.security import BaseSecurity, SASLPlaintext, SASLScram256, SASLScram512
from pydantic import SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

SecurityProtocol = Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"]
SaslMechanism = Literal["SCRAM-SHA-512", "SCRAM-SHA-256", "PLAIN"]

_SASL_PROTOCOLS = ("SASL_PLAINTEXT", "SASL_SSL")
_TLS_PROTOCOLS = ("SSL", "SASL_SSL")
_FASTSTREAM_SASL: dict[str, type[SASLPlaintext | SASLScram256 | SASLScram512]] = {
    "PLAIN": SASLPlaintext,
    "SCRAM-SHA-256": SASLScram256,
    "SCRAM-SHA-512": SASLScram512,
}


class KafkaSettings(BaseSettings):
    """`CRM_KAFKA_*`: where the brokers are, how to authenticate, and an optional topic prefix."""

    model_config = SettingsConfigDict(env_prefix="CRM_KAFKA_", extra="ignore")

    bootstrap_servers: str = "127.0.0.1:9092"
    client_id: str = "crm"
    topic_prefix: str = ""
    """Prepended to every topic name; lets tests and tenants share one cluster."""
    request_timeout_ms: int = 15_000
    replication_factor: int = 1
    """Replicas of each topic created by `crm topics ensure` (3 in production)."""
    security_protocol: SecurityProtocol = "PLAINTEXT"
    """How clients talk to the brokers; production clusters use SASL_SSL."""
    sasl_mechanism: SaslMechanism = "SCRAM-SHA-512"
    """SASL mechanism when `security_protocol` is SASL_*; SCRAM never sends the password itself."""
    sasl_username: str | None = None
    sasl_password: SecretStr | None = None
    """A `SecretStr` so that it never shows up in logs, reprs or error messages."""
    ssl_cafile: str | None = None
    """PEM bundle of the CA that signed the brokers' certificates (system CAs when unset)."""
    ssl_certfile: str | None = None
    """Client certificate (PEM) for mutual TLS; optional."""
    ssl_keyfile: str | None = None
    """Private key (PEM) of `ssl_certfile`; optional."""

    @model_validator(mode="after")
    def _credentials_complete(self) -> KafkaSettings:
        """Fail at start, not at the first send, when a SASL protocol lacks its credentials."""
        if self.security_protocol in _SASL_PROTOCOLS:
            missing = [
                name
                for name, value in (
                    ("CRM_KAFKA_SASL_USERNAME", self.sasl_username),
                    ("CRM_KAFKA_SASL_PASSWORD", self.sasl_password),
                )
                if not value or (isinstance(value, SecretStr) and not value.get_secret_value())
            ]
            if missing:
                raise ValueError(
                    f"CRM_KAFKA_SECURITY_PROTOCOL={self.security_protocol} needs {' and '.join(missing)} to be set"
                )
        if self.ssl_keyfile and not self.ssl_certfile:
            raise ValueError(
                "CRM_KAFKA_SSL_KEYFILE is set without CRM_KAFKA_SSL_CERTFILE (mutual TLS needs the certificate)"
            )
        return self

    def topic(self, name: str) -> str:
        """The physical name of logical topic `name`."""
        return f"{self.topic_prefix}{name}"

    def group(self, name: str) -> str:
        """The physical name of consumer group `name` (prefixed like the topics)."""
        return f"{self.topic_prefix}{name}"

    @property
    def uses_tls(self) -> bool:
        """Whether connections are encrypted (SSL or SASL_SSL)."""
        return self.security_protocol in _TLS_PROTOCOLS

    @property
    def uses_sasl(self) -> bool:
        """Whether clients authenticate with SASL (SASL_PLAINTEXT or SASL_SSL)."""
        return self.security_protocol in _SASL_PROTOCOLS

    def describe_security(self) -> str:
        """How clients connect, for error messages: protocol, mechanism, user, CA; never the password."""
        parts: list[str] = [self.security_protocol]
        if self.uses_sasl:
            parts.append(f"{self.sasl_mechanism} as {self.sasl_username!r}")
        if self.uses_tls:
            parts.append(f"CA {self.ssl_cafile or 'system default'}")
        return ", ".join(parts)

    def ssl_context(self) -> ssl.SSLContext | None:
        """The TLS context for the brokers (None without TLS); built fresh so each client owns its own."""
        if not self.uses_tls:
            return None
        context: ssl.SSLContext = create_ssl_context(
            cafile=self.ssl_cafile, certfile=self.ssl_certfile, keyfile=self.ssl_keyfile
        )
        return context

    def client_options(self) -> dict[str, Any]:
        """Keyword arguments for any aiokafka client (consumer, producer, admin, bare client).

        Use as `AIOKafkaConsumer(..., **kafka.client_options())`. Empty for PLAINTEXT, so
        it costs nothing on a local cluster and cannot be forgotten on a secured one.
        """
        options: dict[str, Any] = {}
        if self.security_protocol == "PLAINTEXT":
            return options
        options["security_protocol"] = self.security_protocol
        if self.uses_tls:
            options["ssl_context"] = self.ssl_context()
        if self.uses_sasl:
            username, password = self._credentials()
            options["sasl_mechanism"] = self.sasl_mechanism
            options["sasl_plain_username"] = username
            options["sasl_plain_password"] = password
        return options

    def security(self) -> BaseSecurity | None:
        """The FastStream security object for `KafkaBroker(security=...)` (None for PLAINTEXT).

        FastStream's broker takes no raw aiokafka security keywords; it translates one of
        these objects into them (and documents it in the AsyncAPI server section).
        """
        if self.security_protocol == "PLAINTEXT":
            return None
        context = self.ssl_context()
        if not self.uses_sasl:
            return BaseSecurity(ssl_context=context, use_ssl=True)
        username, password = self._credentials()
        return _FASTSTREAM_SASL[self.sasl_mechanism](username, password, ssl_context=context, use_ssl=self.uses_tls)

    def _credentials(self) -> tuple[str, str]:
        """The SASL user and password; the validator already refused settings without them."""
        if not self.sasl_username or self.sasl_password is None:
            raise ValueError("SASL credentials are not configured (CRM_KAFKA_SASL_USERNAME/CRM_KAFKA_SASL_PASSWORD)")
        return self.sasl_username, self.sasl_password.get_secret_value()


def make_broker(settings: KafkaSettings, *, client_id: str | None = None) -> KafkaBroker:
    """A FastStream Kafka broker whose producer is idempotent with `acks=all`."""
    return KafkaBroker(
        settings.bootstrap_servers.split(","),
        client_id=client_id or settings.client_id,
        enable_idempotence=True,
        acks="all",
        request_timeout_ms=settings.request_timeout_ms,
        linger_ms=5,
        logger=None,
        security=settings.security(),
    )


def readiness(settings: KafkaSettings) -> Callable[[], Awaitable[None]]:
    """A readiness check that a broker of `settings` answers."""

    async def check() -> None:
        await kafka_ready(settings)

    return check


async def kafka_ready(settings: KafkaSettings, within: float = 3.0) -> None:
    """Raise unless a broker answers a metadata request within `within` seconds.

    The error names the bootstrap servers and how we connected (never the password):
    aiokafka only logs the reason (e.g. SaslAuthenticationFailed) and raises a bare
    "Unable to bootstrap", which alone sends an operator to check the network.
    """
    client = AIOKafkaClient(
        bootstrap_servers=settings.bootstrap_servers.split(","),
        request_timeout_ms=int(within * 1000),
        **settings.client_options(),
    )
    try:
        await asyncio.wait_for(client.bootstrap(), within)
    except (KafkaConnectionError, TimeoutError) as exc:
        raise KafkaConnectionError(
            f"no Kafka broker answered at {settings.bootstrap_servers} within {within}s "
            f"over {settings.describe_security()}; check the CRM_KAFKA_* settings (aiokafka's log has the cause)"
        ) from exc
    finally:
        await client.close()
