"""Field-level encryption of personal data in stored events, with per-subject keys.

A service declares which fields of which domain events are personal; `PiiMapper`
seals those fields with the key of the event's aggregate (AES-256-GCM) before the
event is stored and opens them when it is read. Once a subject's key is shredded the
fields read back as empty values of the same shape ("" for text, [] for lists), so
projections and replays keep working while the data itself is gone.
"""

from __future__ import annotations

import base64
import os
from collections.abc import Mapping
from typing import Any
from uuid import UUID

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from eventsourcing.domain import DomainEventProtocol
from eventsourcing.persistence import StoredEvent, Transcoder

from shared.platform.eventstore import CorrelatedMapper
from shared.platform.keystore import KeyStore

SEALED = "$pii"
PiiFields = Mapping[str, tuple[str, ...]]
"""Domain event class `__qualname__` (e.g. `Customer.Registered`) → its personal fields."""


def _aad(stored: StoredEvent) -> str:
    """Binds a sealed value to its event: copied into another event, it will not open."""
    return f"{stored.originator_id}/{stored.originator_version}/{stored.topic}"


def _shape(value: Any) -> str:
    return "list" if isinstance(value, list) else "null" if value is None else "str"


def _empty(shape: str) -> Any:
    return [] if shape == "list" else None if shape == "null" else ""


class PiiMapper(CorrelatedMapper):
    """A mapper that seals personal fields with the subject's key (see module docstring)."""

    def __init__(self, transcoder: Transcoder, keys: KeyStore, fields: PiiFields) -> None:
        super().__init__(transcoder=transcoder)
        self.keys = keys
        self.fields = fields

    def to_stored_event(self, domain_event: DomainEventProtocol[Any]) -> StoredEvent:
        stored = super().to_stored_event(domain_event)
        names = self.fields.get(type(domain_event).__qualname__)
        if not names:
            return stored
        state = self.transcoder.decode(stored.state)
        key = self.keys.key_for(UUID(str(stored.originator_id)))
        aad = _aad(stored)
        for name in names:
            if state.get(name) is not None:
                state[name] = self._seal(key, state[name], aad=aad)
        return StoredEvent(stored.originator_id, stored.originator_version, stored.topic, self.transcoder.encode(state))

    def to_domain_event(self, stored_event: StoredEvent) -> DomainEventProtocol[Any]:
        state = self.transcoder.decode(stored_event.state)
        sealed = [name for name, value in state.items() if isinstance(value, dict) and SEALED in value]
        if sealed:
            key = self.keys.existing_key(UUID(str(stored_event.originator_id)))
            for name in sealed:
                state[name] = self._open(key, state[name], aad=_aad(stored_event))
            stored_event = StoredEvent(
                stored_event.originator_id,
                stored_event.originator_version,
                stored_event.topic,
                self.transcoder.encode(state),
            )
        return super().to_domain_event(stored_event)

    def _seal(self, key: bytes, value: Any, *, aad: str) -> dict[str, str]:
        nonce = os.urandom(12)
        plain = self.transcoder.encode({"v": value})
        sealed = nonce + AESGCM(key).encrypt(nonce, plain, aad.encode())
        return {SEALED: base64.b64encode(sealed).decode(), "shape": _shape(value)}

    def _open(self, key: bytes | None, sealed: dict[str, str], *, aad: str) -> Any:
        if key is None:
            return _empty(sealed["shape"])
        raw = base64.b64decode(sealed[SEALED])
        return self.transcoder.decode(AESGCM(key).decrypt(raw[:12], raw[12:], aad.encode()))["v"]
