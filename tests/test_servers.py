"""Where the integration suite finds its servers: env first, never a silent skip."""

from __future__ import annotations

import pytest

from tests.integration import servers


def clear(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("CRM_KAFKA_BOOTSTRAP_SERVERS", "CRM_MONGO_URL", "CRM_POSTGRES_HOST", "CRM_POSTGRES_PORT"):
        monkeypatch.delenv(name, raising=False)


def test_servers_announced_by_the_provisioning_are_used(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CRM_KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:9")
    monkeypatch.setenv("CRM_MONGO_URL", "mongodb://127.0.0.1:10/")
    monkeypatch.setenv("CRM_POSTGRES_HOST", "127.0.0.1")
    monkeypatch.setenv("CRM_POSTGRES_PORT", "11")
    with servers.servers() as found:
        assert (found.kafka, found.postgres_port) == ("127.0.0.1:9", 11)


def test_without_servers_or_docker_the_run_fails_instead_of_skipping(monkeypatch: pytest.MonkeyPatch) -> None:
    clear(monkeypatch)
    monkeypatch.setattr(servers, "docker_answers", lambda: False)
    with pytest.raises(pytest.fail.Exception, match="make test"), servers.servers():
        pass
