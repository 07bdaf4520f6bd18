"""The generic HTTP connector and the credentials cipher."""

from __future__ import annotations

import base64
import json
import os

import httpx
import pytest

from services.social.connectors import Channel, Connectors, GenericHttpConnector
from services.social.credentials import CredentialCipher, CredentialsKeyInvalid, CredentialsUnreadable, parse_key
from services.social.domain import ConnectorFailed, InvalidInput

CHANNEL = Channel("weibo", "@acme_cn", "http://platform.test/api", {"token": "tok-1"})


def test_publish_posts_json_with_bearer_token_and_idempotency_key() -> None:
    seen: list[httpx.Request] = []

    def platform(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(201, json={"id": "wb-1"})

    connector = GenericHttpConnector(transport=httpx.MockTransport(platform))
    assert connector.publish(CHANNEL, "新品上市", "post-123") == "wb-1"
    [request] = seen
    assert str(request.url) == "http://platform.test/api/posts"
    assert request.headers["Authorization"] == "Bearer tok-1"
    assert request.headers["Idempotency-Key"] == "post-123"
    assert json.loads(request.content) == {"text": "新品上市", "handle": "@acme_cn"}


def test_reply_names_the_interaction() -> None:
    def platform(request: httpx.Request) -> httpx.Response:
        assert json.loads(request.content)["in_reply_to"] == "m-1"
        return httpx.Response(200, json={"id": "r-9"})

    assert GenericHttpConnector(transport=httpx.MockTransport(platform)).reply(CHANNEL, "m-1", "谢谢", "k") == "r-9"


@pytest.mark.parametrize("answer", [httpx.Response(503), httpx.Response(200, json={}), httpx.Response(200, text="ok")])
def test_a_platform_refusal_is_a_connector_failure(answer: httpx.Response) -> None:
    connector = GenericHttpConnector(transport=httpx.MockTransport(lambda request: answer))
    with pytest.raises(ConnectorFailed):
        connector.publish(CHANNEL, "x", "k")


def test_an_unreachable_platform_is_a_connector_failure() -> None:
    def down(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused")

    with pytest.raises(ConnectorFailed, match="unreachable"):
        GenericHttpConnector(transport=httpx.MockTransport(down)).publish(CHANNEL, "x", "k")


def test_unknown_connector_is_invalid_input() -> None:
    with pytest.raises(InvalidInput):
        Connectors().get("carrier-pigeon")
    assert "generic_http" in Connectors().names()


def test_sealed_credentials_open_only_for_their_account_and_key() -> None:
    key = os.urandom(32)
    sealed = CredentialCipher(key).seal({"token": "t"}, bound_to="account-1")
    assert CredentialCipher(key).open(sealed, bound_to="account-1") == {"token": "t"}
    with pytest.raises(CredentialsUnreadable):
        CredentialCipher(key).open(sealed, bound_to="account-2")
    with pytest.raises(CredentialsUnreadable):
        CredentialCipher(os.urandom(32)).open(sealed, bound_to="account-1")


@pytest.mark.parametrize("value", [None, "", "not base64!", base64.b64encode(b"short").decode()])
def test_a_missing_or_malformed_key_is_refused(value: str | None) -> None:
    with pytest.raises(CredentialsKeyInvalid):
        parse_key(value)
