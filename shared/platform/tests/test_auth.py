"""Bearer JWTs with roles guard every endpoint but health."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from pydantic import SecretStr

from shared.platform.auth import Principal, issue_token, require_roles
from shared.platform.http import instrument

SECRET = "test-secret-0123456789abcdef0123456789"


def make_app() -> TestClient:
    app = FastAPI()
    app.state.jwt_secret = SecretStr(SECRET)
    instrument(app, "test", {})

    @app.get("/deals")
    def deals(user: Annotated[Principal, require_roles("sales_rep")]) -> dict[str, str]:
        return {"subject": user.subject}

    return TestClient(app)


def bearer(*roles: str, secret: str = SECRET, ttl: timedelta = timedelta(minutes=5)) -> dict[str, str]:
    return {"Authorization": f"Bearer {issue_token(secret, 'rep@example.com', list(roles), ttl)}"}


def test_a_request_without_a_token_is_rejected_with_401() -> None:
    response = make_app().get("/deals")
    assert response.status_code == 401
    assert response.json()["detail"] == "missing bearer token"


def test_a_token_signed_with_another_key_is_rejected() -> None:
    assert make_app().get("/deals", headers=bearer("sales_rep", secret="x" * 40)).status_code == 401


def test_an_expired_token_is_rejected() -> None:
    response = make_app().get("/deals", headers=bearer("sales_rep", ttl=timedelta(seconds=-1)))
    assert response.status_code == 401
    assert "expired" in response.json()["detail"]


def test_a_caller_without_the_role_gets_403() -> None:
    response = make_app().get("/deals", headers=bearer("analyst"))
    assert response.status_code == 403
    assert "sales_rep" in response.json()["detail"]


def test_the_role_or_admin_is_let_through() -> None:
    client = make_app()
    assert client.get("/deals", headers=bearer("sales_rep")).json() == {"subject": "rep@example.com"}
    assert client.get("/deals", headers=bearer("admin")).status_code == 200


def test_health_needs_no_token() -> None:
    assert make_app().get("/healthz").status_code == 200


def test_unknown_roles_cannot_be_issued() -> None:
    with pytest.raises(ValueError, match="unknown roles"):
        issue_token(SECRET, "someone", ["superuser"])
