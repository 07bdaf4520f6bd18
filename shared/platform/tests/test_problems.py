"""Every error is an RFC 9457 problem, and every operation documents the codes its route can answer."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Body, FastAPI, HTTPException, Query
from fastapi.testclient import TestClient
from pydantic import BaseModel, SecretStr

from shared.platform.auth import Principal, issue_token, require_roles
from shared.platform.inputpolicy import install_input_policy
from shared.platform.problems import MEDIA_TYPE, install_problems

SECRET = "p" * 40


class Note(BaseModel):
    text: str


def app() -> FastAPI:
    api = FastAPI()
    api.state.jwt_secret = SecretStr(SECRET)
    install_input_policy(api)
    install_problems(api)

    @api.get("/notes/{note_id}", summary="Read", responses={404: {"description": "No such note"}})
    def read(note_id: int, user: Annotated[Principal, require_roles("analyst")]) -> dict[str, int]:
        raise HTTPException(404, f"no note {note_id}")

    @api.put("/notes/{note_id}", summary="Write")
    def write(note_id: int, note: Note, user: Annotated[Principal, require_roles("analyst")]) -> dict[str, int]:
        return {"id": note_id}

    @api.get("/public", summary="Anyone")
    def public() -> dict[str, str]:
        return {"ok": "yes"}

    @api.get("/search", summary="Search")
    def search(q: Annotated[str, Query(max_length=5)] = "") -> dict[str, str]:
        return {"q": q}

    @api.post("/crash", summary="Fails")
    def crash(text: Annotated[str, Body(embed=True)]) -> None:
        raise RuntimeError("boom: a secret detail")

    return api


def token() -> dict[str, str]:
    return {"Authorization": f"Bearer {issue_token(SECRET, 'a@example.com', ['analyst'])}"}


def assert_problem(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == MEDIA_TYPE
    body: dict[str, Any] = response.json()
    assert body["type"] == "about:blank"
    assert body["status"] == status
    assert isinstance(body["title"], str)
    assert isinstance(body["detail"], str)
    return body


def test_http_errors_auth_errors_and_validation_errors_are_problems() -> None:
    client = TestClient(app())
    assert assert_problem(client.get("/notes/7", headers=token()), 404)["detail"] == "no note 7"
    unauthenticated = client.get("/notes/7")
    assert assert_problem(unauthenticated, 401)["title"] == "Unauthorized"
    assert unauthenticated.headers["www-authenticate"] == "Bearer"
    wrong_role = {"Authorization": f"Bearer {issue_token(SECRET, 'r@example.com', ['sales_rep'])}"}
    assert assert_problem(client.get("/notes/7", headers=wrong_role), 403)["detail"].startswith("requires one of")
    invalid = assert_problem(client.get("/notes/seven", headers=token()), 422)
    assert invalid["errors"] == [
        {"loc": ["path", "note_id"], "msg": invalid["errors"][0]["msg"], "type": "int_parsing"}
    ]
    assert invalid["detail"].startswith("path.note_id: ")
    assert assert_problem(client.get("/nowhere"), 404)["detail"] == "Not Found"


def test_a_405_names_every_method_of_the_path() -> None:
    """Starlette's own 405 named only the first route matching the path (`GET`, not `PUT`)."""
    response = TestClient(app()).delete("/notes/7", headers=token())
    assert_problem(response, 405)
    assert response.headers["allow"] == "GET, PUT"


def test_an_unexpected_failure_is_a_problem_that_does_not_leak_the_exception() -> None:
    response = TestClient(app(), raise_server_exceptions=False).post("/crash", json={"text": "x"})
    body = assert_problem(response, 500)
    assert body["error"] == "InternalError"
    assert "secret" not in response.text


def test_each_operation_documents_the_codes_its_route_can_answer() -> None:
    document = TestClient(app()).get("/openapi.json").json()

    def codes(path: str, method: str) -> list[str]:
        return sorted(document["paths"][path][method]["responses"])

    assert codes("/notes/{note_id}", "get") == ["200", "401", "403", "404", "422"]
    assert codes("/notes/{note_id}", "put") == ["200", "400", "401", "403", "413", "422"]
    assert codes("/public", "get") == ["200"]
    assert codes("/search", "get") == ["200", "422"]
    assert codes("/crash", "post") == ["200", "400", "413", "422"]
    for path, item in document["paths"].items():
        for method, operation in item.items():
            for code, response in operation["responses"].items():
                if code[0] in "45":
                    assert response["content"] == {MEDIA_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}}, (
                        f"{method} {path} {code}"
                    )
    schemas = document["components"]["schemas"]
    assert "HTTPValidationError" not in schemas
    assert "ValidationError" not in schemas
    assert schemas["Problem"]["properties"]["errors"]["anyOf"][0]["items"] == {
        "$ref": "#/components/schemas/FieldProblem"
    }
