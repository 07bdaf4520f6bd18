"""Tracking tokens: genuine ones verify; forged, tampered or repurposed ones do not."""

from __future__ import annotations

from uuid import uuid4

import pytest

from services.marketing.tokens import InvalidToken, TokenSigner

SIGNER = TokenSigner("k" * 40)


def test_a_click_token_carries_its_destination() -> None:
    mid = uuid4()
    claims = SIGNER.verify("click", SIGNER.sign("click", mid, "https://shop.example.com/春季"))
    assert (claims.message_id, claims.url) == (mid, "https://shop.example.com/春季")


def test_tampered_payload_is_rejected() -> None:
    token = SIGNER.sign("click", uuid4(), "https://shop.example.com/")
    forged = TokenSigner("k" * 40).sign("click", uuid4(), "https://evil.example/")
    tampered = forged.split(".")[0] + "." + token.split(".")[1]
    with pytest.raises(InvalidToken):
        SIGNER.verify("click", tampered)


def test_another_key_or_garbage_is_rejected() -> None:
    with pytest.raises(InvalidToken):
        SIGNER.verify("open", TokenSigner("x" * 40).sign("open", uuid4()))
    for junk in ("", ".", "abc", "a.b", "%%%.%%%"):
        with pytest.raises(InvalidToken):
            SIGNER.verify("open", junk)


def test_an_open_token_is_no_unsubscribe_token() -> None:
    with pytest.raises(InvalidToken):
        SIGNER.verify("unsubscribe", SIGNER.sign("open", uuid4()))


def test_short_secrets_are_refused() -> None:
    with pytest.raises(ValueError, match="at least 32"):
        TokenSigner("short")
