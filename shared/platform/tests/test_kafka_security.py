"""Kafka security settings: validation, and what they hand to aiokafka and FastStream.

The broker side (a real SCRAM listener) is exercised in tests/integration/test_kafka_security.py;
these tests pin the translation so that a wrong keyword never reaches a client silently.
"""

from __future__ import annotations

import ssl

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.client import AIOKafkaClient
from faststream.security import BaseSecurity, SASLPlaintext, SASLScram256, SASLScram512
from pydantic import ValidationError

from shared.platform.kafka import KafkaSettings, make_broker

PASSWORD = "s3cret-密码"


def scram(protocol: str = "SASL_PLAINTEXT", **overrides: str) -> KafkaSettings:
    fields: dict[str, str] = {
        "security_protocol": protocol,
        "sasl_username": "crm",
        "sasl_password": PASSWORD,
    } | overrides
    return KafkaSettings.model_validate(fields)


def test_plaintext_is_the_default_and_adds_no_options() -> None:
    settings = KafkaSettings()
    assert settings.security_protocol == "PLAINTEXT"
    assert settings.client_options() == {}
    assert settings.security() is None


def test_sasl_plaintext_gives_aiokafka_the_scram_credentials() -> None:
    assert scram().client_options() == {
        "security_protocol": "SASL_PLAINTEXT",
        "sasl_mechanism": "SCRAM-SHA-512",
        "sasl_plain_username": "crm",
        "sasl_plain_password": PASSWORD,
    }


def test_sasl_ssl_adds_a_verifying_tls_context() -> None:
    options = scram("SASL_SSL").client_options()
    context = options.pop("ssl_context")
    assert isinstance(context, ssl.SSLContext)
    assert context.verify_mode == ssl.CERT_REQUIRED
    assert context.check_hostname
    assert options["security_protocol"] == "SASL_SSL"
    assert options["sasl_plain_password"] == PASSWORD


def test_each_client_gets_its_own_tls_context() -> None:
    settings = scram("SASL_SSL")
    assert settings.client_options()["ssl_context"] is not settings.client_options()["ssl_context"]


def test_ssl_without_sasl_sends_no_credentials() -> None:
    settings = KafkaSettings(security_protocol="SSL")
    options = settings.client_options()
    assert set(options) == {"security_protocol", "ssl_context"}
    security = settings.security()
    assert type(security) is BaseSecurity
    assert security.use_ssl


def test_a_missing_ca_file_fails_when_the_context_is_built() -> None:
    with pytest.raises(FileNotFoundError):
        scram("SASL_SSL", ssl_cafile="/nonexistent/ca.pem").client_options()


@pytest.mark.parametrize(
    ("mechanism", "cls"),
    [("SCRAM-SHA-512", SASLScram512), ("SCRAM-SHA-256", SASLScram256), ("PLAIN", SASLPlaintext)],
)
@pytest.mark.parametrize("protocol", ["SASL_PLAINTEXT", "SASL_SSL"])
def test_faststream_gets_the_matching_security_object(mechanism: str, cls: type[BaseSecurity], protocol: str) -> None:
    security = scram(protocol, sasl_mechanism=mechanism).security()
    assert type(security) is cls
    assert isinstance(security, SASLScram512 | SASLScram256 | SASLPlaintext)
    assert (security.username, security.password) == ("crm", PASSWORD)
    assert security.use_ssl is (protocol == "SASL_SSL")
    assert (security.ssl_context is not None) is (protocol == "SASL_SSL")


def test_make_broker_passes_the_security_to_its_kafka_clients() -> None:
    broker = make_broker(scram("SASL_SSL", sasl_mechanism="SCRAM-SHA-256"))
    kwargs = broker._connection_kwargs  # what FastStream hands to aiokafka's producer and consumers
    assert kwargs["security_protocol"] == "SASL_SSL"
    assert kwargs["sasl_mechanism"] == "SCRAM-SHA-256"
    assert (kwargs["sasl_plain_username"], kwargs["sasl_plain_password"]) == ("crm", PASSWORD)
    assert isinstance(kwargs["ssl_context"], ssl.SSLContext)


def test_make_broker_on_plaintext_stays_plaintext() -> None:
    kwargs = make_broker(KafkaSettings())._connection_kwargs
    assert kwargs.get("security_protocol", "PLAINTEXT") == "PLAINTEXT"
    assert "sasl_plain_password" not in kwargs


@pytest.mark.parametrize("protocol", ["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"])
async def test_every_aiokafka_client_accepts_the_options(protocol: str) -> None:
    settings = scram(protocol) if protocol.startswith("SASL") else KafkaSettings(security_protocol=protocol)
    options = settings.client_options()
    clients = [
        AIOKafkaClient(bootstrap_servers="127.0.0.1:1", **settings.client_options()),
        AIOKafkaAdminClient(bootstrap_servers="127.0.0.1:1", **settings.client_options())._client,
    ]
    consumer = AIOKafkaConsumer(bootstrap_servers="127.0.0.1:1", **settings.client_options())
    producer = AIOKafkaProducer(bootstrap_servers="127.0.0.1:1", **settings.client_options())
    try:
        clients += [consumer._client, producer.client]
        assert {c._security_protocol for c in clients} == {protocol}
        assert {c._sasl_plain_password for c in clients} == {options.get("sasl_plain_password")}
    finally:
        await consumer.stop()
        await producer.stop()


@pytest.mark.parametrize("protocol", ["SASL_PLAINTEXT", "SASL_SSL"])
def test_sasl_without_credentials_fails_at_start_naming_the_variables(
    protocol: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CRM_KAFKA_SECURITY_PROTOCOL", protocol)
    monkeypatch.setenv("CRM_KAFKA_SASL_USERNAME", "crm")
    with pytest.raises(ValidationError, match="needs CRM_KAFKA_SASL_PASSWORD to be set"):
        KafkaSettings()
    monkeypatch.delenv("CRM_KAFKA_SASL_USERNAME")
    with pytest.raises(ValidationError, match="CRM_KAFKA_SASL_USERNAME and CRM_KAFKA_SASL_PASSWORD"):
        KafkaSettings()
    monkeypatch.setenv("CRM_KAFKA_SASL_USERNAME", "crm")
    monkeypatch.setenv("CRM_KAFKA_SASL_PASSWORD", "")
    with pytest.raises(ValidationError, match="CRM_KAFKA_SASL_PASSWORD"):
        KafkaSettings()


def test_settings_are_read_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in {
        "SECURITY_PROTOCOL": "SASL_SSL",
        "SASL_MECHANISM": "SCRAM-SHA-256",
        "SASL_USERNAME": "crm",
        "SASL_PASSWORD": PASSWORD,
        "SSL_CAFILE": "/etc/kafka/ca.pem",
    }.items():
        monkeypatch.setenv(f"CRM_KAFKA_{name}", value)
    settings = KafkaSettings()
    assert (settings.security_protocol, settings.sasl_mechanism, settings.ssl_cafile) == (
        "SASL_SSL",
        "SCRAM-SHA-256",
        "/etc/kafka/ca.pem",
    )
    assert settings.sasl_password is not None
    assert settings.sasl_password.get_secret_value() == PASSWORD


@pytest.mark.parametrize(
    ("field", "value"), [("security_protocol", "SASL_SCRAM"), ("sasl_mechanism", "GSSAPI"), ("sasl_mechanism", "")]
)
def test_unknown_protocols_and_mechanisms_are_refused(field: str, value: str) -> None:
    with pytest.raises(ValidationError, match=field):
        scram(**{field: value})


def test_a_client_key_without_its_certificate_is_refused() -> None:
    with pytest.raises(ValidationError, match="CRM_KAFKA_SSL_KEYFILE is set without CRM_KAFKA_SSL_CERTFILE"):
        KafkaSettings(security_protocol="SSL", ssl_keyfile="/etc/kafka/client.key")


def test_the_password_never_shows_in_repr_str_dumps_or_descriptions() -> None:
    settings = scram("SASL_SSL")
    shown = [
        repr(settings),
        str(settings),
        settings.model_dump_json(),
        str(settings.model_dump()),
        settings.describe_security(),
    ]
    assert all(PASSWORD not in text for text in shown)
    assert settings.describe_security() == "SASL_SSL, SCRAM-SHA-512 as 'crm', CA system default"
