"""The customer API over an in-memory store: status codes, validation, roles, concurrency."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr

from services.customer.main import create_app
from services.customer.settings import CustomerSettings
from shared.platform.auth import AuthSettings, issue_token

SECRET = "unit-test-secret-0123456789abcdef0123"


@pytest.fixture
def api(tmp_path: Any) -> Iterator[TestClient]:
    settings = CustomerSettings(store={"sqlite_path": str(tmp_path / "customer.sqlite")}, default_phone_region="CN")
    with TestClient(create_app(settings, AuthSettings(secret=SecretStr(SECRET)))) as client:
        yield client


def as_(*roles: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {issue_token(SECRET, 'user-1', list(roles))}"}


REP = as_("sales_rep")
ZHANG = {"name": "张伟", "emails": ["Zhang.Wei@Example.CN"], "phones": ["138 1234 5678"], "consent": {"email": True}}


def register(api: TestClient, body: dict[str, Any] | None = None) -> dict[str, Any]:
    response = api.post("/customers", json=body or ZHANG, headers=REP)
    assert response.status_code == 201, response.text
    result: dict[str, Any] = response.json()
    return result


def test_register_then_read_normalises_contact_points(api: TestClient) -> None:
    ref = register(api)
    customer = api.get(f"/customers/{ref['id']}", headers=REP).json()
    assert customer["name"] == "张伟"
    assert customer["phones"] == ["+8613812345678"]
    assert customer["emails"] == ["Zhang.Wei@example.cn"]
    assert customer["consent"]["email"] is True


def test_invalid_email_is_422_with_a_readable_message_and_writes_nothing(api: TestClient) -> None:
    response = api.post("/customers", json={**ZHANG, "emails": ["not-an-email"]}, headers=REP)
    assert response.status_code == 422
    assert "email" in response.json()["detail"].lower()
    assert api.app.state.customers.recorder.max_notification_id() in (None, 0)  # type: ignore[attr-defined]


def test_unknown_fields_are_rejected(api: TestClient) -> None:
    assert api.post("/customers", json={**ZHANG, "nickname": "x"}, headers=REP).status_code == 422


def test_stale_version_is_rejected_with_409(api: TestClient) -> None:
    ref = register(api)
    url = f"/customers/{ref['id']}"
    assert api.patch(url, json={"expected_version": 1, "name": "Zhang Wei"}, headers=REP).status_code == 200
    response = api.patch(url, json={"expected_version": 1, "name": "Wei Zhang"}, headers=REP)
    assert response.status_code == 409
    assert response.json()["error"] == "StaleVersion"


def test_unknown_customer_is_404(api: TestClient) -> None:
    assert api.get("/customers/7f0c2f4e-1111-4a4a-9a9a-000000000000", headers=REP).status_code == 404


def test_interaction_consent_and_contact_points(api: TestClient) -> None:
    ref = register(api)
    url = f"/customers/{ref['id']}"
    interaction = {"kind": "call", "summary": "续约电话", "occurred_at": "2026-11-20T10:00:00+08:00"}
    assert api.post(f"{url}/interactions", json=interaction, headers=REP).status_code == 201
    assert api.put(f"{url}/consent/sms", json={"granted": True}, headers=as_("marketer")).status_code == 200
    assert (
        api.post(f"{url}/contact-points", json={"kind": "email", "value": "zw@example.com"}, headers=REP).status_code
        == 201
    )
    customer = api.get(url, headers=REP).json()
    assert customer["interactions"][0]["recorded_by"] == "user-1"
    assert customer["consent"]["sms"] is True
    assert "zw@example.com" in customer["emails"]


def test_naive_interaction_time_is_rejected(api: TestClient) -> None:
    ref = register(api)
    body = {"kind": "call", "summary": "x", "occurred_at": "2026-11-20T10:00:00"}
    assert api.post(f"/customers/{ref['id']}/interactions", json=body, headers=REP).status_code == 422


@pytest.mark.parametrize("when", [0, 1764000000, 1.5, "0", "1764000000.5"])
def test_a_number_is_not_a_time(api: TestClient, when: object) -> None:
    """Pydantic reads numbers as Unix times; ours refuse them, so a typo never becomes a date in 1970."""
    ref = register(api)
    body = {"kind": "call", "summary": "x", "occurred_at": when}
    response = api.post(f"/customers/{ref['id']}/interactions", json=body, headers=REP)
    assert response.status_code == 422
    assert "ISO 8601" in response.text


def test_search_and_duplicates_then_merge(api: TestClient) -> None:
    first = register(api)
    second = register(api, {"name": "张伟", "emails": ["zhangwei@example.org"], "phones": ["+86 138 1234 5678"]})
    hits = api.get("/customers", params={"phone": "+8613812345678"}, headers=REP).json()
    assert {h["id"] for h in hits} == {first["id"], second["id"]}
    duplicates = api.get(f"/customers/{first['id']}/duplicates", headers=REP).json()
    assert duplicates[0]["id"] == second["id"]
    assert api.post(f"/customers/{first['id']}/merge", json={"merged_id": second["id"]}, headers=REP).status_code == 403
    manager = as_("sales_manager")
    assert (
        api.post(f"/customers/{first['id']}/merge", json={"merged_id": second["id"]}, headers=manager).status_code
        == 200
    )
    merged = api.patch(f"/customers/{second['id']}", json={"name": "x"}, headers=REP)
    assert merged.status_code == 409
    assert merged.json()["survivor_id"] == first["id"]


def test_erase_is_admin_only_and_blocks_further_commands(api: TestClient) -> None:
    ref = register(api)
    url = f"/customers/{ref['id']}"
    assert api.delete(url, headers=REP).status_code == 403
    assert api.delete(url, headers=as_("admin")).status_code == 204
    customer = api.get(url, headers=REP).json()
    assert customer["erased"] is True
    assert customer["emails"] == []
    assert api.patch(url, json={"name": "x"}, headers=REP).status_code == 410


def test_analysts_cannot_read_customer_records(api: TestClient) -> None:
    ref = register(api)
    assert api.get(f"/customers/{ref['id']}", headers=as_("analyst")).status_code == 403


def test_openapi_documents_every_route_with_bearer_auth(api: TestClient) -> None:
    spec = api.get("/openapi.json").json()
    assert "/customers/{customer_id}/merge" in spec["paths"]
    assert "HTTPBearer" in spec["components"]["securitySchemes"]


def test_the_docs_page_works_offline_with_bundled_swagger_ui(api: TestClient) -> None:
    page = api.get("/docs").text
    assert "/static-offline-docs/swagger-ui-bundle.js" in page
    assert "cdn" not in page.lower()
    assert api.get("/static-offline-docs/swagger-ui-bundle.js").status_code == 200


def test_the_customer_list_pages_past_any_limit_with_a_cursor(api: TestClient) -> None:
    names = [f"客户 {n:03d}" for n in range(7)]
    ids = {
        register(api, {"name": name, "emails": [f"c{n}@example.com"], "phones": []})["id"]
        for n, name in enumerate(names)
    }
    seen: list[str] = []
    url: str | None = "/customers?limit=3"
    pages = 0
    while url:
        response = api.get(url, headers=REP)
        assert response.status_code == 200, response.text
        seen += [c["id"] for c in response.json()]
        pages += 1
        link = response.headers.get("Link")
        url = link[1 : link.index(">")] if link else None
        if link:
            assert response.headers["X-Next-Cursor"] in link
    assert pages == 3
    assert len(seen) == len(set(seen))
    assert ids <= set(seen)
    assert api.get("/customers?after=not-a-cursor", headers=REP).status_code == 422


def test_q_finds_customers_by_part_of_an_email_too(api: TestClient) -> None:
    ref = register(api, {"name": "王芳", "emails": ["Wang.Fang@Example.cn"], "phones": []})
    hits = api.get("/customers", params={"q": "wang.fang@"}, headers=REP).json()
    assert [h["id"] for h in hits] == [ref["id"]]
    assert [h["id"] for h in api.get("/customers", params={"q": "王"}, headers=REP).json()] == [ref["id"]]
