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

**Rotation.** A sealed key names the master key it was sealed under (`crmk2` + the first
4 bytes of the master key's SHA-256, never the key). To rotate, set the new key as
`CRM_KEYS_MASTER_KEY` and the old one in `CRM_KEYS_PREVIOUS_MASTER_KEYS` (comma-separated):
previous keys only open, never seal, and a key opened with one is sealed again under the
current key as it is read; `crm keys reseal` does the rest at once, and `crm keys status`
shows when no key needs a previous master key any more, so it can be removed.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
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
LEGACY = b"crmk1"
"""Sealed before rotation existed: nonce + ciphertext, no master key id (opened by trying each)."""
PREFIX = b"crmk2"
ID_BYTES = 4
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


def key_id(master: bytes) -> bytes:
    """What a sealed key stores to name its master key: a hash prefix, which reveals nothing of the key."""
    return hashlib.sha256(master).digest()[:ID_BYTES]


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
        self._id = key_id(master) if master else b""
        self._openers = {key_id(k): AESGCM(k) for k in (*([master] if master else []), *previous)}

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
        return PREFIX + self._id + nonce + self._aead.encrypt(nonce, key, subject.bytes)

    def unwrap(self, subject: UUID, stored: bytes) -> bytes:
        """The data key in what was stored for `subject` (a key stored unsealed is returned as it is)."""
        if stored.startswith(PREFIX):
            sealed_id = stored[len(PREFIX) : len(PREFIX) + ID_BYTES]
            rest = stored[len(PREFIX) + ID_BYTES :]
            opener = self._openers.get(sealed_id)
            if opener is None:
                raise KeyWrapError(
                    f"this data key was sealed under master key {sealed_id.hex()}, which is neither "
                    f"{MASTER_KEY_ENV} nor one of {PREVIOUS_ENV}"
                )
            return self._open(opener, subject, rest)
        if not stored.startswith(LEGACY):
            return stored
        if not self._openers:
            raise KeyWrapError(f"the data keys are sealed under a master key: set {MASTER_KEY_ENV}")
        for opener in self._openers.values():
            try:
                return self._open(opener, subject, stored[len(LEGACY) :])
            except KeyWrapError:
                continue
        raise KeyWrapError(f"neither {MASTER_KEY_ENV} nor any of {PREVIOUS_ENV} is the master key of this data key")

    @staticmethod
    def _open(opener: AESGCM, subject: UUID, rest: bytes) -> bytes:
        try:
            return opener.decrypt(rest[:NONCE_BYTES], rest[NONCE_BYTES:], subject.bytes)
        except InvalidTag:
            raise KeyWrapError(f"{MASTER_KEY_ENV} is not the master key this data key was sealed under") from None

    def needs_sealing(self, stored: bytes) -> bool:
        """True for a key not sealed under the current master key: stored unsealed, sealed before key ids
        existed, or under a previous master key (seal it again now)."""
        return self._aead is not None and self.state(stored) != "current"

    def state(self, stored: bytes) -> str:
        """`current`, `previous` (a previous master key's, or one from before key ids), or `unsealed`."""
        if stored.startswith(PREFIX):
            return "current" if stored[len(PREFIX) : len(PREFIX) + ID_BYTES] == self._id else "previous"
        return "previous" if stored.startswith(LEGACY) else "unsealed"

    def resealed(self, subject: UUID, stored: bytes) -> bytes | None:
        """What to store instead of `stored` so it is sealed under the current master key; None if it is."""
        return self.wrap(subject, self.unwrap(subject, stored)) if self.needs_sealing(stored) else None
