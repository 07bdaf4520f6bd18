"""Domain errors become one JSON shape with the status of their most specific class."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.testclient import TestClient

from shared.platform.errors import install_error_table, status_of


class DomainError(Exception):
    pass


class NotFound(DomainError):
    pass


class TicketNotFound(NotFound):
    pass


class Gone(DomainError):
    pass


TABLE = {NotFound: 404, Gone: 410}


def test_the_most_specific_class_in_the_table_wins() -> None:
    assert status_of(TicketNotFound("t"), TABLE) == 404
    assert status_of(Gone("g"), TABLE) == 410
    assert status_of(DomainError("other"), TABLE) == 400


def test_routes_answer_with_the_table_status_and_extra_fields() -> None:
    app = FastAPI()
    install_error_table(app, DomainError, TABLE, extra=lambda e: {"hint": "look again"} if isinstance(e, Gone) else {})

    @app.get("/missing")
    def missing() -> None:
        raise TicketNotFound("ticket 7 not found")

    @app.get("/gone")
    def gone() -> None:
        raise Gone("erased")

    client = TestClient(app)
    response = client.get("/missing")
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json() == {
        "type": "about:blank",
        "title": "Not Found",
        "status": 404,
        "detail": "ticket 7 not found",
        "error": "TicketNotFound",
    }
    erased = client.get("/gone").json()
    assert [erased[key] for key in ("status", "detail", "error", "hint")] == [410, "erased", "Gone", "look again"]
