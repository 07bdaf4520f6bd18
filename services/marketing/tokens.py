"""Signed tokens of the public tracking links: open pixel, click redirect, unsubscribe.

A token is `base64url(claims).base64url(HMAC-SHA256(secret, kind + claims))`. The kind
is inside the MAC, so an open token cannot be replayed as an unsubscribe; a click token
carries the one URL it may redirect to, so the endpoint is no open redirect.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from dataclasses import dataclass
from typing import Literal
from uuid import UUID

Kind = Literal["open", "click", "unsubscribe"]
MIN_SECRET_LENGTH = 32


class InvalidToken(Exception):
    """The token was forged, tampered with, or is for another purpose."""


@dataclass(frozen=True)
class Claims:
    """What a valid token vouches for."""

    kind: Kind
    message_id: UUID
    url: str | None = None


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class TokenSigner:
    """Signs and verifies tracking tokens with one secret (`CRM_MARKETING_TRACKING_SECRET`)."""

    def __init__(self, secret: str) -> None:
        if len(secret) < MIN_SECRET_LENGTH:
            raise ValueError(f"the tracking secret must have at least {MIN_SECRET_LENGTH} characters")
        self._key = secret.encode()

    def sign(self, kind: Kind, message_id: UUID, url: str | None = None) -> str:
        """A token for `kind` on `message_id` (and, for clicks, the destination)."""
        claims = {"m": message_id.hex} | ({"u": url} if url is not None else {})
        payload = _b64(json.dumps(claims, separators=(",", ":"), ensure_ascii=False).encode())
        return f"{payload}.{_b64(self._mac(kind, payload))}"

    def verify(self, kind: Kind, token: str) -> Claims:
        """The claims of a genuine `kind` token; `InvalidToken` for anything else."""
        payload, _, signature = token.partition(".")
        try:
            valid = hmac.compare_digest(_unb64(signature), self._mac(kind, payload))
            claims = json.loads(_unb64(payload)) if valid else None
            message_id = UUID(hex=claims["m"]) if isinstance(claims, dict) else None
        except (ValueError, KeyError, TypeError):
            raise InvalidToken("malformed token") from None
        if message_id is None:
            raise InvalidToken("bad signature")
        url = claims.get("u") if isinstance(claims, dict) else None
        if kind == "click" and not isinstance(url, str):
            raise InvalidToken("click token without a destination")
        return Claims(kind=kind, message_id=message_id, url=url)

    def _mac(self, kind: str, payload: str) -> bytes:
        return hmac.new(self._key, f"{kind}.{payload}".encode(), hashlib.sha256).digest()
