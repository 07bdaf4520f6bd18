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
"""

from __future__ import annotations

import base64
import binascii
import logging
import os
from uuid import UUID

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

MASTER_KEY_ENV = "CRM_KEYS_MASTER_KEY"
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


class KeyWrap:
    """Seals data keys before they are stored and opens them when read."""

    def __init__(self, master: bytes | None = None) -> None:
        if master is not None and len(master) != 32:
            raise ValueError(f"{MASTER_KEY_ENV} must be 32 bytes (base64 of `openssl rand 32`), not {len(master)}")
        self._aead = AESGCM(master) if master else None

    @classmethod
    def from_settings(cls, settings: KeySettings) -> KeyWrap:
        """The wrap `CRM_KEYS_MASTER_KEY` configures (none: keys stored as they are, logged)."""
        value = (settings.master_key.get_secret_value() if settings.master_key else "").strip()
        if not value:
            log.warning("%s is not set: data keys are stored unsealed (fine for development only)", MASTER_KEY_ENV)
            return cls()
        try:
            master = base64.b64decode(value, validate=True)
        except (binascii.Error, ValueError):
            raise ValueError(f"{MASTER_KEY_ENV} must be base64 (e.g. `openssl rand -base64 32`)") from None
        return cls(master)

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
        if not stored.startswith(PREFIX):
            return stored
        if self._aead is None:
            raise KeyWrapError(f"the data keys are sealed under a master key: set {MASTER_KEY_ENV}")
        nonce, sealed = stored[len(PREFIX) : len(PREFIX) + NONCE_BYTES], stored[len(PREFIX) + NONCE_BYTES :]
        try:
            return self._aead.decrypt(nonce, sealed, subject.bytes)
        except InvalidTag:
            raise KeyWrapError(f"{MASTER_KEY_ENV} is not the master key this data key was sealed under") from None

    def needs_sealing(self, stored: bytes) -> bool:
        """True for a key stored before a master key was configured (seal it now)."""
        return self._aead is not None and not stored.startswith(PREFIX)
