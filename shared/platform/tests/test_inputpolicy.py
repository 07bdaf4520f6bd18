"""The input policy refuses what no service may store, as a 422 problem naming the field, and passes everything else."""

from __future__ import annotations

import json
import math
from typing import Any
from urllib.parse import parse_qs, urlencode

import pytest
from fastapi import Body, FastAPI, Query
from fastapi.exceptions import RequestValidationError
from fastapi.testclient import TestClient
from pydantic import BaseModel

from shared.platform.inputpolicy import TEXT_PATTERN, Refused, check_body, install_input_policy
from shared.platform.problems import MEDIA_TYPE, install_problems, validation_problem

STORED: list[Any] = []


class Lead(BaseModel):
    name: str
    notes: str = ""
    score: float = 0.0


def app(max_bytes: int = 1_048_576) -> TestClient:
    api = FastAPI()
    install_input_policy(api, max_bytes=max_bytes)
    install_problems(api)

    @api.post("/leads", status_code=201)
    async def create(lead: Lead) -> dict[str, Any]:
        STORED.append(lead)
        return lead.model_dump()

    @api.post("/imports")
    async def upload(text: str = Body(media_type="text/csv")) -> dict[str, int]:
        return {"bytes": len(text)}

    @api.get("/search")
    async def search(q: str = Query(), limit: int = Query(default=10)) -> dict[str, Any]:
        return {"q": q, "limit": limit}

    return TestClient(api)


def post(client: TestClient, raw: bytes | str) -> Any:
    body = raw.encode() if isinstance(raw, str) else raw
    return client.post("/leads", content=body, headers={"Content-Type": "application/json"})


@pytest.mark.parametrize(
    ("raw", "loc", "kind"),
    [
        ('{"name": "a", "score": NaN}', ["body"], "json_invalid"),
        ('{"name": "a", "score": Infinity}', ["body"], "json_invalid"),
        ('{"name": "a", "score": -Infinity}', ["body"], "json_invalid"),
        ('{"name": "a", "score": 1e309}', ["body"], "json_invalid"),
        ('{"name": "\\ud800"}', ["body", "name"], "string_unicode"),
        ('{"name": "\\udc00x"}', ["body", "name"], "string_unicode"),
        ('{"name": "Wang\\u0000Fang"}', ["body", "name"], "string_control"),
        ('{"name": "a", "notes": "bell\\u0007"}', ["body", "notes"], "string_control"),
        ('{"name": "del\\u007f"}', ["body", "name"], "string_control"),
        ('{"name": "c1\\u0085"}', ["body", "name"], "string_control"),
        ('{"name": "a", "tags": [["x", "\\u001b[31m"]]}', ["body", "tags", 0, 1], "string_control"),
        ('{"name": "a", "k\\u0000ey": 1}', ["body"], "string_control"),
        ('{"name": "a", "n": {"\\ud800": 1}}', ["body", "n"], "string_unicode"),
    ],
)
def test_a_body_that_breaks_the_policy_is_a_422_naming_where_and_nothing_is_stored(
    raw: str, loc: list[Any], kind: str
) -> None:
    STORED.clear()
    response = post(app(), raw)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == MEDIA_TYPE
    [item] = response.json()["errors"]
    assert item == {"type": kind, "loc": loc, "msg": item["msg"]}
    assert STORED == []


def test_bytes_that_are_not_utf8_are_refused_without_echoing_them() -> None:
    response = post(app(), b'{"name": "\xff\xfe"}')
    assert response.status_code == 422
    assert response.json()["errors"][0]["type"] == "json_invalid"
    assert "\\xff" not in response.text


def test_text_people_write_passes_chinese_emoji_tabs_and_newlines() -> None:
    STORED.clear()
    body = '{"name": "王芳 👩‍💼", "notes": "第一行\\n\\tsecond line\\r\\n", "score": 1e308}'
    response = post(app(), body)
    assert response.status_code == 201, response.text
    assert response.json()["name"] == "王芳 👩‍💼"
    assert STORED[0].notes == "第一行\n\tsecond line\r\n"


def test_a_body_over_the_limit_is_a_413_before_it_is_read() -> None:
    client = app(max_bytes=64)
    response = post(client, '{"name": "' + "x" * 100 + '"}')
    assert response.status_code == 413
    assert "64 bytes" in response.json()["detail"]


def test_a_streamed_body_over_the_limit_is_a_413_too() -> None:
    client = app(max_bytes=64)

    def chunks() -> Any:
        yield b'{"name": "'
        yield b"x" * 100
        yield b'"}'

    response = client.post("/leads", content=chunks(), headers={"Content-Type": "application/json"})
    assert response.status_code == 413


def test_other_media_types_and_reads_are_left_alone() -> None:
    client = app(max_bytes=64)
    csv = client.post("/imports", content="a,b\n" * 10, headers={"Content-Type": "text/csv"})
    assert csv.status_code == 200
    assert client.get("/search", params={"q": "王"}).json() == {"q": "王", "limit": 10}


def test_malformed_json_is_answered_by_fastapi_as_always() -> None:
    response = post(app(), '{"name": ')
    assert response.status_code == 422
    assert response.json()["errors"][0]["type"] == "json_invalid"


def test_a_validation_error_never_fails_on_its_own_input() -> None:
    """FastAPI's errors carry the input; the problem never does, so NaN or a lone surrogate cannot make a 500."""
    errors = [
        {"type": "string_type", "loc": ("body", "name"), "msg": "Input should be a valid string", "input": math.nan},
        {"type": "x", "loc": ("body", "n"), "msg": "bad", "input": "\ud800", "ctx": {"error": ValueError("v")}},
        {"type": "int_parsing", "loc": ("query", "limit"), "msg": "not an int", "input": "ten"},
    ]
    response = validation_problem(RequestValidationError(errors).errors())
    assert response.status_code == 422
    body = json.loads(bytes(response.body))
    assert body["detail"] == "body.name: Input should be a valid string (and 2 more)"
    assert [sorted(item) for item in body["errors"]] == [["loc", "msg", "type"]] * 3
    assert body["errors"][2] == {"type": "int_parsing", "loc": ["query", "limit"], "msg": "not an int"}


def test_check_body_leaves_empty_and_non_json_bodies_to_the_route() -> None:
    check_body(b"")
    check_body(b"not json")
    check_body(b"1" * 5000)  # longer than Python's int digit limit: the route's parser answers


def test_a_form_body_gets_the_same_text_rules() -> None:
    """URL-encoded forms (the survey page) are checked like JSON: their text reaches events too."""
    for form in ("name=Wang%00Fang", "name=%ED%A0%80", "n%07ame=x"):
        with pytest.raises(Refused):
            check_body(form.encode(), "form")
    check_body(b"name=%E7%8E%8B%E8%8A%B3&notes=line+one%0Aline+two", "form")


def test_text_reaches_the_route_in_nfc_whichever_way_it_was_typed() -> None:
    STORED.clear()
    decomposed = "Jose\u0301 Mu\u0308ller"  # e + combining acute, u + combining diaeresis
    response = post(app(), json.dumps({"name": decomposed, "notes": "王芳"}))
    assert response.status_code == 201, response.text
    assert STORED[-1].name == "José Müller" == "Jos\u00e9 M\u00fcller"
    assert STORED[-1].notes == "王芳"


def test_a_body_already_in_nfc_is_passed_on_as_sent() -> None:
    body = b'{"name": "Jos\\u00e9",  "score": 1.50}'
    assert check_body(body) is body
    assert check_body(b"name=%E7%8E%8B%E8%8A%B3", "form") == b"name=%E7%8E%8B%E8%8A%B3"


def test_form_fields_are_normalised_too() -> None:
    passed = check_body(urlencode({"name": ["Jose\u0301", "Zoe\u0308"]}, doseq=True).encode(), "form")
    assert parse_qs(passed.decode()) == {"name": ["Jos\u00e9", "Zo\u00eb"]}


@pytest.mark.parametrize(
    ("query", "loc", "kind"),
    [
        (b"q=Wang%00Fang", ["query", "q"], "string_control"),
        (b"q=%1b%5B2J", ["query", "q"], "string_control"),
        (b"q=ok&limit=%C2%85", ["query", "limit"], "string_control"),
        (b"q%00=x", ["query"], "string_control"),
        (b"q=%ff%fe", ["query"], "string_unicode"),
    ],
)
def test_query_strings_follow_the_text_rules_on_every_method(query: bytes, loc: list[str], kind: str) -> None:
    """A search term is text a person typed: the same rules as a name in a body (schemathesis sent these)."""
    response = app().get("/search?" + query.decode("latin-1"))
    assert response.status_code == 422, response.text
    [item] = response.json()["errors"]
    assert (item["loc"], item["type"]) == (loc, kind)


def test_a_query_string_is_passed_on_in_nfc() -> None:
    assert app().get("/search", params={"q": "Jose\u0301"}).json() == {"q": "Jos\u00e9", "limit": 10}
    assert app().get("/search", params={"q": "王芳\tx"}).json()["q"] == "王芳\tx"


def test_the_documents_give_every_policed_request_string_the_text_rule() -> None:
    document = app().app.openapi()  # type: ignore[attr-defined]
    search = {p["name"]: p["schema"] for p in document["paths"]["/search"]["get"]["parameters"]}
    assert search["q"]["pattern"] == TEXT_PATTERN
    assert "pattern" not in search["limit"]  # an integer
    lead = document["components"]["schemas"]["Lead"]["properties"]
    assert lead["name"]["pattern"] == TEXT_PATTERN  # Lead is only read: POST /leads answers a plain object
    csv = document["paths"]["/imports"]["post"]["requestBody"]["content"]["text/csv"]["schema"]
    assert "pattern" not in csv  # CSV bodies are not read by the policy


def test_a_schema_answers_also_use_is_left_without_the_rule() -> None:
    """What we answer may hold text that came in another way (an import): its schema must not promise more."""
    api = FastAPI()
    install_input_policy(api)

    @api.post("/echo")
    def echo(lead: Lead) -> Lead:
        return lead

    @api.post("/take")
    def take(lead: Lead) -> dict[str, str]:
        return {}

    schemas = api.openapi()["components"]["schemas"]
    assert "pattern" not in schemas["Lead"]["properties"]["name"]
