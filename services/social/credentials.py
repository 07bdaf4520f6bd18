"""Account credentials and webhook secrets, encrypted at rest with AES-256-GCM.

The key comes from `CRM_SOCIAL_CREDENTIALS_KEY` (base64 of 32 random bytes) and never
from code: without it the service refuses to start. Only ciphertext reaches the event
store; the API never returns credentials, and public events never carry them.
"""

from __future__ import annotations

import base64
import binascii
import json
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

KEY_BYTES = 32
NONCE_BYTES = 12


class CredentialsKeyInvalid(ValueError):
    """The configured key is missing or not base64 of 32 bytes."""


class CredentialsUnreadable(ValueError):
    """A sealed value does not open with the configured key (wrong key, or tampered)."""


def parse_key(encoded: str | None) -> bytes:
    """The 32-byte key from its base64 text; a clear error when missing or malformed."""
    if not encoded:
        raise CredentialsKeyInvalid(
            "CRM_SOCIAL_CREDENTIALS_KEY is not set: give base64 of 32 random bytes (`openssl rand -base64 32`)"
        )
    try:
        key = base64.b64decode(encoded, validate=True)
    except binascii.Error as exc:
        raise CredentialsKeyInvalid("CRM_SOCIAL_CREDENTIALS_KEY is not valid base64") from exc
    if len(key) != KEY_BYTES:
        raise CredentialsKeyInvalid(f"CRM_SOCIAL_CREDENTIALS_KEY must decode to {KEY_BYTES} bytes, not {len(key)}")
    return key


class CredentialCipher:
    """Seals and opens small secrets; the associated data binds a ciphertext to its account."""

    def __init__(self, key: bytes) -> None:
        self._aead = AESGCM(key)

    def seal(self, secret: dict[str, str], *, bound_to: str) -> str:
        """Base64 of nonce + ciphertext of `secret` (a JSON object)."""
        nonce = os.urandom(NONCE_BYTES)
        plain = json.dumps(secret, sort_keys=True).encode()
        return base64.b64encode(nonce + self._aead.encrypt(nonce, plain, bound_to.encode())).decode()

    def open(self, sealed: str, *, bound_to: str) -> dict[str, str]:
        """The secret sealed by `seal` for the same `bound_to`."""
        raw = base64.b64decode(sealed)
        try:
            plain = self._aead.decrypt(raw[:NONCE_BYTES], raw[NONCE_BYTES:], bound_to.encode())
        except InvalidTag as exc:
            raise CredentialsUnreadable("credentials do not open with the configured key") from exc
        opened: dict[str, str] = json.loads(plain)
        return opened
