"""Data keys at rest sealed under a master key, so a copy of the store's files alone reads nothing.

Crypto-shredding keeps each customer's data key beside the events it protects. Without
this, anyone holding a copy of the database (a backup, a disk image) held every key in
the clear, and with them every customer's PII. With `CRM_KEYS_MASTER_KEY` set (32 random
bytes, base64; from the platform's secret store, never beside the data) each key is
stored as `crmk1` + nonce + AES-256-GCM(master key, data key), the subject's id bound in
as associated data, so a sealed key moved to another row does not open.

Keys stored before a master key was configured are still read, and sealed in place the
first time they are read with one (a rolling migration). Without a master key, keys are
stored as they are: a development store; the service logs that once.

**Rotation.** To rotate, set the new key as `CRM_KEYS_MASTER_KEY` and the old one in
`CRM_KEYS_PREVIOUS_MASTER_KEYS` (comma-separated): previous keys only open, never seal, and
a key opened with one is sealed again under the current key as it is read; `crm keys
reseal` does the rest at once, and `crm keys status` shows when no key needs a previous
master key any more, so it can be removed. A sealed key does not name its master key:
opening tries the current one, then each previous one (a wrong key fails its GCM tag at
once). The stored format is the one the first release wrote, so processes of that release
still read what new ones write during a rolling upgrade (a new prefix would have looked
like an unsealed key to them).
"""

from __future__ import annotations

import base64
import binascii
import logging
import os
from collections.abc import Sequence
from uuid import UUID

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

MASTER_KEY_ENV = "CRM_KEYS_MASTER_KEY"
PREVIOUS_ENV = "CRM_KEYS_PREVIOUS_MASTER_KEYS"
PREFIX = b"crmk1"
NONCE_BYTES = 12

log = logging.getLogger("crm.keystore")


class KeyWrapError(RuntimeError):
    """A stored key cannot be opened: no master key, or not the one it was sealed under."""


class KeySettings(BaseSettings):
    """`CRM_KEYS_MASTER_KEY`: read by every process that opens an event store (APIs, relays, consumers)."""

    model_config = SettingsConfigDict(env_prefix="CRM_KEYS_", extra="ignore")

    master_key: SecretStr | None = Field(
        default=None, description="32 random bytes, base64 (`openssl rand -base64 32`); unset: keys stored unsealed."
    )
    previous_master_keys: SecretStr | None = Field(
        default=None, description="Master keys a rotation replaced, base64, comma-separated: they open, never seal."
    )


def _decoded(value: str, what: str) -> bytes:
    try:
        master = base64.b64decode(value.strip(), validate=True)
    except (binascii.Error, ValueError):
        raise ValueError(f"{what} must be base64 (e.g. `openssl rand -base64 32`)") from None
    if len(master) != 32:
        raise ValueError(f"{what} must be 32 bytes (base64 of `openssl rand 32`), not {len(master)}")
    return master


class KeyWrap:
    """Seals data keys before they are stored and opens them when read."""

    def __init__(self, master: bytes | None = None, previous: Sequence[bytes] = ()) -> None:
        for key in (master, *previous):
            if key is not None and len(key) != 32:
                raise ValueError(f"{MASTER_KEY_ENV} must be 32 bytes (base64 of `openssl rand 32`), not {len(key)}")
        if previous and master is None:
            raise ValueError(f"{PREVIOUS_ENV} is set but {MASTER_KEY_ENV} is not: set the key they were rotated to")
        self._aead = AESGCM(master) if master else None
        self._previous = [AESGCM(k) for k in previous]

    @classmethod
    def from_settings(cls, settings: KeySettings) -> KeyWrap:
        """The wrap `CRM_KEYS_MASTER_KEY` (and `CRM_KEYS_PREVIOUS_MASTER_KEYS`) configure; none: unsealed, logged."""
        value = (settings.master_key.get_secret_value() if settings.master_key else "").strip()
        listed = settings.previous_master_keys.get_secret_value() if settings.previous_master_keys else ""
        previous = [_decoded(v, PREVIOUS_ENV) for v in listed.split(",") if v.strip()]
        if not value:
            if previous:
                raise ValueError(f"{PREVIOUS_ENV} is set but {MASTER_KEY_ENV} is not: set the key they were rotated to")
            log.warning("%s is not set: data keys are stored unsealed (fine for development only)", MASTER_KEY_ENV)
            return cls()
        return cls(_decoded(value, MASTER_KEY_ENV), previous)

    @property
    def sealing(self) -> bool:
        """Whether keys are sealed under a master key."""
        return self._aead is not None

    def wrap(self, subject: UUID, key: bytes) -> bytes:
        """What to store for `subject`'s data `key`."""
        if self._aead is None:
            return key
        nonce = os.urandom(NONCE_BYTES)
        return PREFIX + nonce + self._aead.encrypt(nonce, key, subject.bytes)

    def unwrap(self, subject: UUID, stored: bytes) -> bytes:
        """The data key in what was stored for `subject` (a key stored unsealed is returned as it is)."""
        return self.open(subject, stored)[0]

    def open(self, subject: UUID, stored: bytes) -> tuple[bytes, str]:
        """(data key, state): `current` (sealed under the current master key), `previous` or `unsealed`."""
        if not stored.startswith(PREFIX):
            return stored, "unsealed"
        if self._aead is None:
            raise KeyWrapError(f"the data keys are sealed under a master key: set {MASTER_KEY_ENV}")
        nonce, sealed = stored[len(PREFIX) : len(PREFIX) + NONCE_BYTES], stored[len(PREFIX) + NONCE_BYTES :]
        for state, aead in (("current", self._aead), *(("previous", a) for a in self._previous)):
            try:
                return aead.decrypt(nonce, sealed, subject.bytes), state
            except InvalidTag:
                continue
        if self._previous:
            raise KeyWrapError(f"neither {MASTER_KEY_ENV} nor any of {PREVIOUS_ENV} opens this data key")
        raise KeyWrapError(f"{MASTER_KEY_ENV} is not the master key this data key was sealed under")
