"""Every write operation of every service refuses what the input policy forbids, before any route runs.

The bodies are those outside clients sent (CloudEvents-style fuzzing, hand-made): each
used to be a 500 on all six APIs, or (NUL in a name) accepted by one service and refused
by the consumer of its event. The app is not even started: a 422 here comes from the
policy (`shared/platform/inputpolicy.py`), so nothing can have been stored or published.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any
from uuid import uuid4

import pytest
from fastapi.testclient import TestClient

from shared.platform.auth import issue_token
from tests.test_openapi import SERVICES, app_of

BAD_BODIES = {
    "NaN": '{"name": NaN, "amount": NaN}',
    "Infinity": '{"name": "a", "amount": Infinity}',
    "1e309": '{"name": "a", "amount": 1e309}',
    "lone surrogate": '{"name": "\\ud800"}',
    "NUL": '{"name": "Wang\\u0000Fang", "first_name": "\\u0000"}',
    "escape": '{"name": "\\u001b[2J"}',
}


def operations(document: dict[str, Any], keep: Callable[[str, dict[str, Any]], bool]) -> list[tuple[str, str]]:
    """(METHOD, path) of every operation `keep` accepts, path parameters filled with a UUID."""
    found = []
    for path, item in document["paths"].items():
        for method, operation in item.items():
            if keep(method, operation):
                concrete = path
                for name in [p["name"] for p in operation.get("parameters", []) if p["in"] == "path"]:
                    concrete = concrete.replace("{" + name + "}", str(uuid4()))
                found.append((method.upper(), concrete))
    return found


def writes(document: dict[str, Any]) -> list[tuple[str, str]]:
    """Every operation that takes a JSON body."""

    def json_write(method: str, operation: dict[str, Any]) -> bool:
        content = (operation.get("requestBody") or {}).get("content") or {}
        return method in ("post", "put", "patch") and "application/json" in content

    return operations(document, json_write)


@pytest.mark.parametrize("service", SERVICES)
def test_every_json_write_refuses_each_bad_body_with_a_422(
    service: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = app_of(service, tmp_path, monkeypatch)
    operations = writes(app.openapi())
    assert operations, f"{service} has no JSON write operations?"
    token = issue_token("o" * 40, "fuzz@example.com", ["admin"])
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    client = TestClient(app, raise_server_exceptions=False)
    wrong = {}
    for method, path in operations:
        for name, body in BAD_BODIES.items():
            response = client.request(method, path, content=body.encode(), headers=headers)
            if response.status_code != 422 or response.json()["errors"][0]["loc"][0] != "body":
                wrong[f"{method} {path} <- {name}"] = (response.status_code, response.text[:200])
    assert wrong == {}


def reads(document: dict[str, Any]) -> list[str]:
    """Every GET path that is not a page."""

    def api_read(method: str, operation: dict[str, Any]) -> bool:
        answers = operation.get("responses", {}).values()
        return method == "get" and not any("text/html" in a.get("content", {}) for a in answers)

    return [path for _, path in operations(document, api_read)]


@pytest.mark.parametrize("service", SERVICES)
def test_an_unknown_query_parameter_is_a_422_naming_it_on_every_read(
    service: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Ignored, it changed nothing the caller could see: `GET /tickets?queue=` answered every ticket."""
    app = app_of(service, tmp_path, monkeypatch)
    headers = {"Authorization": f"Bearer {issue_token('o' * 40, 'q@example.com', ['admin'])}"}
    client = TestClient(app, raise_server_exceptions=False)
    wrong = {}
    for path in reads(app.openapi()):
        response = client.get(path, params={"queue": "x"}, headers=headers)
        if response.status_code != 422 or response.json()["errors"][0]["loc"] != ["query", "queue"]:
            wrong[path] = (response.status_code, response.text[:200])
    assert wrong == {}


def test_a_page_opened_from_a_message_keeps_working_with_tracking_parameters(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Mail and link trackers append `utm_*` to links; a survey or unsubscribe page must still open."""
    client = TestClient(app_of("support", tmp_path, monkeypatch), raise_server_exceptions=False)
    page = client.get("/surveys/not-a-token", params={"utm_source": "mail"}, headers={"Accept": "text/html"})
    assert page.status_code == 403  # the forged-link page, not a 422 about the parameter
    assert "text/html" in page.headers["content-type"]
