"""Signed, expiring survey links: the customer answers CSAT/NPS without logging in.

A token carries the ticket id, the survey's nonce and its expiry, signed with
HMAC-SHA256 under `CRM_SUPPORT_SURVEY_SECRET`. The signature makes it unforgeable;
the nonce ties it to one survey of the ticket (a resolve after a reopen issues a new
one) and the ticket aggregate records the answer, which makes it single-use.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from uuid import UUID

MIN_SECRET_LENGTH = 32


class InvalidSurveyToken(ValueError):
    """The token was not issued by us, or was altered."""


@dataclass(frozen=True)
class SurveyClaim:
    """What a valid token says."""

    ticket_id: UUID
    nonce: str
    expires_at: datetime

    def expired(self, now: datetime) -> bool:
        """True once the survey may no longer be answered."""
        return now >= self.expires_at


class SurveySigner:
    """Issues and verifies survey tokens with one secret."""

    def __init__(self, secret: str) -> None:
        if len(secret) < MIN_SECRET_LENGTH:
            raise ValueError(f"the survey secret must be at least {MIN_SECRET_LENGTH} characters")
        self._key = secret.encode()

    def issue(self, claim: SurveyClaim) -> str:
        """`payload.signature`, both base64url without padding."""
        payload = json.dumps(
            {"t": str(claim.ticket_id), "n": claim.nonce, "e": int(claim.expires_at.timestamp())},
            separators=(",", ":"),
        ).encode()
        return f"{_b64(payload)}.{_b64(self._sign(payload))}"

    def verify(self, token: str) -> SurveyClaim:
        """The claim of an untampered token; `InvalidSurveyToken` otherwise (expiry is the caller's check)."""
        try:
            encoded, signature = token.split(".")
            payload = _unb64(encoded)
            if not hmac.compare_digest(_unb64(signature), self._sign(payload)):
                raise InvalidSurveyToken("the survey link is not valid")
            data = json.loads(payload)
            return SurveyClaim(UUID(data["t"]), str(data["n"]), datetime.fromtimestamp(int(data["e"]), UTC))
        except (ValueError, KeyError, TypeError) as exc:
            raise InvalidSurveyToken("the survey link is not valid") from exc

    def _sign(self, payload: bytes) -> bytes:
        return hmac.new(self._key, payload, hashlib.sha256).digest()


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
