"""A connected social media account: the brand's handle on one platform, and how to reach it."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar
from urllib.parse import urlparse
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from services.social.domain import InvalidInput, InvalidState, text

MAX_HANDLE = 100
MAX_PLATFORM = 40


class Account(Aggregate):
    """A connected account; credentials and webhook secret are stored only as ciphertext."""

    if TYPE_CHECKING:  # defined at runtime by the @event decorators
        Connected: ClassVar[type[Aggregate.Event]]
        Disconnected: ClassVar[type[Aggregate.Event]]
        SecretsReplaced: ClassVar[type[Aggregate.Event]]

    @classmethod
    def connect(
        cls, *, account_id: UUID, platform: str, handle: str, connector: str, endpoint_url: str, sealed: str
    ) -> Account:
        """Connect an account; `sealed` is the ciphertext of its credentials and webhook secret."""
        url = endpoint_url.strip()
        parsed = urlparse(url)
        if parsed.scheme not in ("http", "https") or not parsed.netloc:
            raise InvalidInput("endpoint_url must be an http(s) URL")
        return cls(
            id=account_id,
            platform=text(platform, "platform", MAX_PLATFORM).lower(),
            handle=text(handle, "handle", MAX_HANDLE),
            connector=connector,
            endpoint_url=url.rstrip("/"),
            sealed=sealed,
        )

    @event("Connected")
    def __init__(
        self, platform: str, handle: str, connector: str, endpoint_url: str, sealed: str, id: UUID | None = None
    ) -> None:
        self.platform = platform
        self.handle = handle
        self.connector = connector
        self.endpoint_url = endpoint_url
        self.sealed = sealed
        self.connected = True

    def ensure_connected(self) -> None:
        """Refuse to work through a disconnected account."""
        if not self.connected:
            raise InvalidState(f"account {self.id} is disconnected")

    def replace_secrets(self, sealed: str) -> None:
        """Store new ciphertext of the credentials and webhook secret (a rotation)."""
        self.ensure_connected()
        self._replace_secrets(sealed=sealed)

    @event("SecretsReplaced")
    def _replace_secrets(self, sealed: str) -> None:
        self.sealed = sealed

    def disconnect(self) -> None:
        """Disconnect; doing it twice is harmless."""
        if self.connected:
            self._disconnect()

    @event("Disconnected")
    def _disconnect(self) -> None:
        self.connected = False
