"""Connectors: how the service talks to a platform, as plug-ins behind one protocol.

A connector publishes posts and replies. Each call carries an idempotency key that the
platform must honour (create once per key, answer the same id again), which is what
makes a retried publish safe. `generic_http` is built in; other platforms plug in as
Python entry points in the group `crm.social.connectors` naming a class with the
`Connector` shape and a no-argument constructor.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from importlib.metadata import entry_points
from typing import Any, Protocol

import httpx

from services.social.domain import ConnectorFailed, InvalidInput

ENTRY_POINT_GROUP = "crm.social.connectors"


@dataclass(frozen=True)
class Channel:
    """What a connector needs to act for one account (credentials already decrypted)."""

    platform: str
    handle: str
    endpoint_url: str
    credentials: dict[str, str]


class Connector(Protocol):
    """Publishes and replies on a platform; raises `ConnectorFailed` when the platform says no."""

    def publish(self, channel: Channel, text: str, idempotency_key: str) -> str:
        """Publish a post; returns the platform's post id."""

    def reply(self, channel: Channel, in_reply_to: str, text: str, idempotency_key: str) -> str:
        """Reply to an interaction (its platform id); returns the platform's reply id."""


class GenericHttpConnector:
    """POSTs JSON to the account's endpoint: `{endpoint}/posts` and `{endpoint}/replies`.

    Sends `Authorization: Bearer <credentials.token>` and `Idempotency-Key`; expects a
    2xx answer with `{"id": "<platform id>"}`.
    """

    def __init__(self, transport: httpx.BaseTransport | None = None, timeout: float = 10.0) -> None:
        self.transport = transport
        self.timeout = timeout

    def publish(self, channel: Channel, text: str, idempotency_key: str) -> str:
        """POST `{endpoint}/posts` with the text and the account's handle."""
        return self._post(channel, "posts", {"text": text, "handle": channel.handle}, idempotency_key)

    def reply(self, channel: Channel, in_reply_to: str, text: str, idempotency_key: str) -> str:
        """POST `{endpoint}/replies` with the interaction's platform id and the text."""
        return self._post(channel, "replies", {"in_reply_to": in_reply_to, "text": text}, idempotency_key)

    def _post(self, channel: Channel, path: str, body: dict[str, Any], idempotency_key: str) -> str:
        headers = {"Idempotency-Key": idempotency_key}
        if token := channel.credentials.get("token"):
            headers["Authorization"] = f"Bearer {token}"
        try:
            with httpx.Client(transport=self.transport, timeout=self.timeout) as client:
                response = client.post(f"{channel.endpoint_url}/{path}", json=body, headers=headers)
        except httpx.HTTPError as exc:
            raise ConnectorFailed(f"{channel.platform} unreachable: {type(exc).__name__}") from exc
        if not response.is_success:
            raise ConnectorFailed(f"{channel.platform} answered HTTP {response.status_code}")
        platform_id = _id_of(response)
        if platform_id is None:
            raise ConnectorFailed(f"{channel.platform} answered without an id")
        return platform_id


def _id_of(response: httpx.Response) -> str | None:
    try:
        body = response.json()
    except ValueError:
        return None
    value = body.get("id") if isinstance(body, dict) else None
    return str(value) if value not in (None, "") else None


ConnectorFactory = Callable[[], Connector]
BUILT_IN: dict[str, ConnectorFactory] = {"generic_http": GenericHttpConnector}


def available() -> dict[str, ConnectorFactory]:
    """Built-in connectors and those installed as entry points (a plug-in may not shadow a built-in)."""
    found: dict[str, ConnectorFactory] = {ep.name: ep.load() for ep in entry_points(group=ENTRY_POINT_GROUP)}
    return {**found, **BUILT_IN}


class Connectors:
    """The connectors a process uses, by name; tests pass their own."""

    def __init__(self, factories: dict[str, ConnectorFactory] | None = None) -> None:
        self._factories = factories if factories is not None else available()
        self._made: dict[str, Connector] = {}

    def names(self) -> list[str]:
        """Names an account may choose."""
        return sorted(self._factories)

    def get(self, name: str) -> Connector:
        """The connector called `name`."""
        if name not in self._factories:
            raise InvalidInput(f"connector must be one of {self.names()}, not {name!r}")
        if name not in self._made:
            self._made[name] = self._factories[name]()
        return self._made[name]
