"""Every service's API documents itself: the OpenAPI docs alone must be enough to use it.

Each operation has a summary, a tag and at least one documented error answer, and the
document builds without a server (no store, no Kafka: `create_app` with temp settings).
"""

from __future__ import annotations

import base64
import importlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from pydantic import SecretStr
from pydantic_settings import BaseSettings

from shared.platform.auth import AuthSettings
from shared.platform.eventstore import EventStoreSettings
from shared.platform.problems import GENERIC

SERVICES = ("customer", "sales", "marketing", "support", "social", "analytics")
SECRETS = {
    "CRM_SUPPORT_SURVEY_SECRET": "s" * 40,
    "CRM_MARKETING_TRACKING_SECRET": "t" * 40,
    "CRM_SOCIAL_CREDENTIALS_KEY": base64.b64encode(b"k" * 32).decode(),
}
PUBLIC = {"/healthz", "/readyz", "/metrics", "/asyncapi.json"}
PAGES = {"/dashboard"}
"""HTML pages anyone may load (their data comes from the documented JSON API)."""


def app_of(service: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> FastAPI:
    """The service's app as its main builds it, on temporary settings (not started: no store, no Kafka)."""
    for key, value in SECRETS.items():
        monkeypatch.setenv(key, value)
    main = importlib.import_module(f"services.{service}.main")
    settings_module = importlib.import_module(f"services.{service}.settings")
    settings_class = next(
        value
        for value in vars(settings_module).values()
        if isinstance(value, type) and issubclass(value, BaseSettings) and value.__module__ == settings_module.__name__
    )
    settings = settings_class()
    if "store" in settings_class.model_fields:
        settings = settings.model_copy(update={"store": EventStoreSettings(sqlite_path=str(tmp_path / "s.db"))})
    auth = AuthSettings(secret=SecretStr("o" * 40))
    if service == "analytics":
        from shared.platform.kafka import KafkaSettings

        app: FastAPI = main.create_app(settings, auth, KafkaSettings())
    else:
        app = main.create_app(settings, auth)
    return app


def openapi_of(service: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    response = TestClient(app_of(service, tmp_path, monkeypatch)).get("/openapi.json")
    assert response.status_code == 200
    document: dict[str, Any] = response.json()
    return document


def operations(document: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    """(path, method, operation) of every operation in `document`."""
    for path, item in document["paths"].items():
        for method, operation in item.items():
            yield path, method, operation


@pytest.mark.parametrize("service", SERVICES)
def test_every_operation_has_a_summary_a_tag_and_documented_errors(
    service: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    document = openapi_of(service, tmp_path, monkeypatch)
    missing: list[str] = []
    for path, method, operation in operations(document):
        if path in PUBLIC:
            continue
        where = f"{method.upper()} {path}"
        if not operation.get("summary"):
            missing.append(f"{where}: no summary")
        if not operation.get("tags"):
            missing.append(f"{where}: no tag")
        documented = [c for c in operation.get("responses", {}) if c.startswith("4") and c != "422"]
        if path not in PAGES and not documented:  # (FastAPI adds 422 itself to any route with parameters)
            missing.append(f"{where}: no documented 4xx answer besides validation")
    assert not missing, "\n".join(missing)


@pytest.mark.parametrize("service", SERVICES)
def test_every_error_answer_is_documented_as_a_problem_and_only_secured_routes_list_401(
    service: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One error model (`shared/platform/problems.py`): the documents say what the handlers send."""
    document = openapi_of(service, tmp_path, monkeypatch)
    wrong: list[str] = []
    for path, method, operation in operations(document):
        secured = bool(operation.get("security"))
        responses = operation["responses"]
        for code, response in responses.items():
            media = list(response.get("content", {}))
            if code[0] in "45" and (media[:1] != ["application/problem+json"] or media[1:] not in ([], ["text/html"])):
                wrong.append(f"{method.upper()} {path} {code}: {media}")
        bearer = {code for code in ("401", "403") if responses.get(code, {}).get("description") == GENERIC[int(code)]}
        if bearer != ({"401", "403"} if secured else set()):
            wrong.append(f"{method.upper()} {path}: secured={secured} but bearer answers listed={sorted(bearer)}")
    assert not wrong, "\n".join(wrong)
    assert {"HTTPValidationError", "ValidationError"}.isdisjoint(document["components"]["schemas"])
