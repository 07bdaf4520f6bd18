"""Webhook signatures: HMAC-SHA256 over `timestamp + "." + body`, with a freshness window.

A platform (or the adapter in front of it) signs each delivery with the account's
webhook secret and sends two headers:

- `X-CRM-Timestamp`: Unix seconds when it signed;
- `X-CRM-Signature`: `sha256=` + hex HMAC-SHA256(secret, f"{timestamp}.{raw body}").

A delivery is refused when the signature does not match (tampered, wrong secret) or the
timestamp is further than the tolerance from now, in either direction (an old capture
replayed later, or a skewed clock). Replays inside the window are caught by the delivery
id, which the application records once (see `SocialApplication.receive_delivery`).
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import datetime

from services.social.domain import WebhookRejected

TIMESTAMP_HEADER = "X-CRM-Timestamp"
SIGNATURE_HEADER = "X-CRM-Signature"
SCHEME = "sha256="


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """The `X-CRM-Signature` value of `body` signed at `timestamp`."""
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return SCHEME + mac.hexdigest()


def verify(
    secret: str, *, timestamp: str | None, signature: str | None, body: bytes, now: datetime, tolerance: float
) -> None:
    """Return if the delivery is authentic and fresh; `WebhookRejected` (saying why) otherwise."""
    if not timestamp or not signature:
        raise WebhookRejected(f"{TIMESTAMP_HEADER} and {SIGNATURE_HEADER} headers are required")
    try:
        signed_at = int(timestamp)
    except ValueError:
        raise WebhookRejected(f"{TIMESTAMP_HEADER} must be Unix seconds") from None
    if abs(now.timestamp() - signed_at) > tolerance:
        raise WebhookRejected(f"delivery signed at {signed_at} is outside the {tolerance:.0f}s tolerance")
    if not hmac.compare_digest(sign(secret, signed_at, body), signature.strip()):
        raise WebhookRejected("signature does not match the body")
