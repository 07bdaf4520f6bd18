"""Survey tokens: signed, tamper-evident, bound to a secret, expiring."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import uuid4

import pytest

from services.support.surveys import InvalidSurveyToken, SurveyClaim, SurveySigner

SIGNER = SurveySigner("s" * 32)
CLAIM = SurveyClaim(uuid4(), "nonce-1", datetime(2026, 3, 20, tzinfo=UTC))


def test_a_token_round_trips_to_its_claim() -> None:
    assert SIGNER.verify(SIGNER.issue(CLAIM)) == CLAIM


def test_a_token_from_another_secret_is_refused() -> None:
    with pytest.raises(InvalidSurveyToken):
        SurveySigner("t" * 32).verify(SIGNER.issue(CLAIM))


@pytest.mark.parametrize(
    "damage", [lambda t: t[:-1], lambda t: "x" + t, lambda t: t.replace(".", ""), lambda t: "a.b.c"]
)
def test_altered_or_malformed_tokens_are_refused(damage: object) -> None:
    assert callable(damage)
    with pytest.raises(InvalidSurveyToken):
        SIGNER.verify(damage(SIGNER.issue(CLAIM)))


def test_a_claim_expires() -> None:
    assert not CLAIM.expired(CLAIM.expires_at - timedelta(seconds=1))
    assert CLAIM.expired(CLAIM.expires_at)


def test_short_secrets_are_refused() -> None:
    with pytest.raises(ValueError, match="at least 32"):
        SurveySigner("short")
