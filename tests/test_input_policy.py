"""Every write operation of every service refuses what the input policy forbids, before any route runs.

The bodies are those outside clients sent (CloudEvents-style fuzzing, hand-made): each
used to be a 500 on all six APIs, or (NUL in a name) accepted by one service and refused
by the consumer of its event. The app is not even started: a 422 here comes from the
policy (`shared/platform/inputpolicy.py`), so nothing can have been stored or published.
"""

from __future__ import annotations

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


def writes(document: dict[str, Any]) -> list[tuple[str, str]]:
    """(method, path) of every operation that takes a JSON body, path parameters filled with a UUID."""
    found = []
    for path, item in document["paths"].items():
        for method, operation in item.items():
            content = (operation.get("requestBody") or {}).get("content") or {}
            if method in ("post", "put", "patch") and "application/json" in content:
                concrete = path
                for name in [p["name"] for p in operation.get("parameters", []) if p["in"] == "path"]:
                    concrete = concrete.replace("{" + name + "}", str(uuid4()))
                found.append((method.upper(), concrete))
    return found


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
