"""One input policy for every service's JSON and form bodies: what no field may hold, checked before any route runs.

Why here and not per model: a value one service accepts ends up in an event that other
services consume. A lead name holding NUL was accepted by sales and refused by customer,
so the conversion died in a dead-letter topic; `NaN`, `Infinity`, `1e309` and lone
surrogates were accepted by the JSON parser (Python's accepts them; RFC 8259 does not)
and then broke the error answer itself (500). So every JSON body is checked once, the
same way everywhere:

- it is UTF-8 and RFC 8259 JSON: no `NaN`/`Infinity` literals, no number that only a
  float overflow could hold (`1e309`);
- no string (value or key) holds a lone surrogate or a control character other than tab,
  newline and carriage return (Unicode category Cc: C0, DEL, C1);
- it is at most `max_bytes` long (413 before it is parsed);
- it holds no boolean or text where its operation's document allows only a number
  (`bodytypes.py`: pydantic would read `true` as 1 and `"3"` as 3);
- the query string of every request, whatever its method, follows the same text rules
  (a search term is text a person typed, like a name);
- every string (values and keys) is passed on in Unicode normalisation form NFC, so "é"
  typed as one code point or as "e" + a combining accent is one name, one email, one key
  everywhere downstream (a body already in NFC, nearly every body, is passed on as sent).

A refused body gets the same 422 problem as any invalid field (`problems.py`: `errors`
lists `{loc, msg, type}`) naming where the bad value is, without echoing it. URL-encoded
form bodies (the survey page) get the same text rules; bodies of other media types (CSV
imports) pass untouched. The OpenAPI documents say the same: every request string (query
parameters, and fields of request-only schemas) carries `TEXT_PATTERN`, so a client that
generates requests from the document sends what is accepted.
"""

from __future__ import annotations

import json
import math
import unicodedata
from typing import Any
from urllib.parse import parse_qs, urlencode

from fastapi.responses import JSONResponse
from starlette.routing import Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from shared.platform.bodytypes import Schema, TypeRefused, check_types
from shared.platform.openapi import amend_openapi, api_routes
from shared.platform.problems import problem, validation_problem

TEXT_PATTERN = "^[^\\u0000-\\u0008\\u000B\\u000C\\u000E-\\u001F\\u007F-\\u009F]*$"
"""Text without the control characters the policy refuses (JSON Schema / ECMA-262 regex)."""
MAX_BODY_BYTES = 1_048_576
"""Default largest JSON body (1 MiB)."""
ALLOWED_CONTROLS = frozenset("\t\n\r")
WRITES = frozenset({"POST", "PUT", "PATCH", "DELETE"})

Loc = list[str | int]


class Refused(ValueError):
    """A body the policy refuses: where, what kind, and a message that never quotes the value."""

    def __init__(self, loc: Loc, kind: str, message: str) -> None:
        super().__init__(message)
        self.loc, self.kind, self.message = loc, kind, message


def _no_constants(name: str) -> Any:
    raise Refused(["body"], "json_invalid", f"{name} is not a JSON number (RFC 8259)")


def _finite(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise Refused(["body"], "json_invalid", "number out of range: it overflows a 64-bit float")
    return value


def _check_text(text: str, loc: Loc, what: str = "text") -> None:
    for char in text:
        kind = unicodedata.category(char)
        if kind == "Cs":
            raise Refused(loc, "string_unicode", f"{what} holds a lone surrogate (not Unicode text)")
        if kind == "Cc" and char not in ALLOWED_CONTROLS:
            raise Refused(loc, "string_control", f"{what} holds the control character U+{ord(char):04X}")


def check_value(value: Any, loc: Loc) -> None:
    """Refuse any string in `value` (keys included) that the policy does not allow."""
    if isinstance(value, str):
        _check_text(value, loc)
    elif isinstance(value, dict):
        for key, item in value.items():
            _check_text(key, loc, "a key")  # named by its parent: the bad key itself is never echoed
            check_value(item, [*loc, key])
    elif isinstance(value, list):
        for index, item in enumerate(value):
            check_value(item, [*loc, index])


def _is_nfc(value: Any) -> bool:
    if isinstance(value, str):
        return unicodedata.is_normalized("NFC", value)
    if isinstance(value, dict):
        return all(_is_nfc(key) and _is_nfc(item) for key, item in value.items())
    if isinstance(value, list):
        return all(_is_nfc(item) for item in value)
    return True


def nfc(value: Any) -> Any:
    """`value` with every string (keys included) in Unicode normalisation form NFC."""
    if isinstance(value, str):
        return unicodedata.normalize("NFC", value)
    if isinstance(value, dict):
        return {nfc(key): nfc(item) for key, item in value.items()}
    if isinstance(value, list):
        return [nfc(item) for item in value]
    return value


UNREAD = object()
"""The value of a body the policy did not parse (empty, a form, or not JSON: FastAPI answers those)."""


def check_body(body: bytes, media: str = "json") -> bytes:
    """The body to pass on (its strings in NFC); `Refused` when it breaks the policy. Empty is left to the route."""
    return checked_body(body, media)[0]


def checked_body(body: bytes, media: str = "json") -> tuple[bytes, Any]:
    """`check_body`, and the parsed JSON value it checked (`UNREAD` for others), so nothing parses it twice."""
    if not body:
        return body, UNREAD
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise Refused(["body", exc.start], "json_invalid", "the body is not UTF-8") from None
    if media == "form":
        return _checked_fields(text, "body", "a form field") or body, UNREAD
    try:
        value = json.loads(text, parse_constant=_no_constants, parse_float=_finite)
    except Refused:
        raise
    except ValueError:  # not JSON at all, or an integer too long: FastAPI answers it as it always has
        return body, UNREAD
    check_value(value, ["body"])
    if _is_nfc(value):
        return body, value
    value = nfc(value)
    return json.dumps(value, ensure_ascii=False).encode(), value


def check_query(query: bytes) -> bytes:
    """The query string to pass on (its names and values in NFC); `Refused` when one breaks the text rules."""
    if not query:
        return query
    # as Starlette reads it: raw bytes as Latin-1, percent-escapes as UTF-8
    return _checked_fields(query.decode("latin-1"), "query", "a query parameter") or query


def _checked_fields(text: str, where: str, what: str) -> bytes | None:
    """A URL-encoded form or query string refused on the text rules; its NFC form, or None if it is one already."""
    try:
        fields = parse_qs(text, keep_blank_values=True, errors="strict")
    except UnicodeDecodeError:
        raise Refused([where], "string_unicode", f"{what} is not UTF-8 once decoded") from None
    for name, values in fields.items():
        _check_text(name, [where], "a parameter name")
        for value in values:
            _check_text(value, [where, name])
    return None if _is_nfc(fields) else urlencode(nfc(fields), doseq=True).encode()


def refusal(refused: Refused) -> JSONResponse:
    """The validation problem for a refused body."""
    return validation_problem([{"type": refused.kind, "loc": refused.loc, "msg": refused.message}])


def _media(scope: Scope) -> str | None:
    """The kind of this request's body, by its `Content-Type` (`kind_of`)."""
    for name, value in scope["headers"]:
        if name == b"content-type":
            return kind_of(value.decode("latin-1").split(";", 1)[0].strip().lower())
    return None


def kind_of(media: str) -> str | None:
    """ "json" or "form" for the media types the policy reads, else None (CSV imports pass untouched)."""
    if media == "application/json" or media.endswith("+json"):
        return "json"
    return "form" if media == "application/x-www-form-urlencoded" else None


def _declared_length(scope: Scope) -> int | None:
    for name, value in scope["headers"]:
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


class Operations:
    """What each operation of one app declares (JSON body schema, query parameters), read once from its OpenAPI.

    The middleware runs before routing, so it finds the request's route itself, among the
    app's API routes (listed once: they do not change once the app serves).
    """

    def __init__(self) -> None:
        self._routes: list[Any] | None = None
        self._found: dict[tuple[str, str], dict[str, Any] | None] = {}

    def _operation(self, scope: Scope) -> tuple[dict[str, Any], dict[str, Any]] | None:
        """(operation, document) `scope` is for, or None (no such route, or one left out of the document)."""
        app = scope.get("app")
        if app is None or not hasattr(app, "openapi"):
            return None
        if self._routes is None:
            self._routes = api_routes(app)
        route = next((r for r in self._routes if r.matches(scope)[0] is Match.FULL), None)
        if route is None:
            return None
        method, document = str(scope["method"]), app.openapi()
        key = (method, str(route.path_format))
        if key not in self._found:
            self._found[key] = document["paths"].get(route.path_format, {}).get(method.lower())
        operation = self._found[key]
        return None if operation is None else (operation, document)

    def body_schema(self, scope: Scope) -> tuple[Schema, Schema] | None:
        """(schema, components) of the operation's JSON body, or None (no such route, no JSON body)."""
        found = self._operation(scope)
        if found is None:
            return None
        operation, document = found
        content = (operation.get("requestBody") or {}).get("content", {})
        schema = next((m.get("schema") for name, m in content.items() if kind_of(name) == "json"), None)
        return None if schema is None else (schema, document.get("components", {}).get("schemas", {}))

    def query_names(self, scope: Scope) -> set[str] | None:
        """The query parameters the operation declares; None where any may come (unknown route, HTML page).

        A page a person opens from a message (a survey, an unsubscribe link, the dashboard)
        may carry what mail and link trackers append (`utm_source`); an API call may not.
        """
        found = self._operation(scope)
        if found is None:
            return None
        operation = found[0]
        answers = (operation.get("responses") or {}).values()
        if any("text/html" in (answer.get("content") or {}) for answer in answers):
            return None
        return {p["name"] for p in operation.get("parameters", []) if p.get("in") == "query"}


class InputPolicyMiddleware:
    """Checks every JSON request body against the policy before the app sees it, then replays it."""

    def __init__(self, app: ASGIApp, max_bytes: int = MAX_BODY_BYTES) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.operations = Operations()

    def _check_types(self, scope: Scope, value: Any) -> None:
        """Refuse a JSON type pydantic would silently coerce into the one the document allows (`bodytypes.py`)."""
        found = self.operations.body_schema(scope) if value is not UNREAD else None
        if found is None:
            return
        try:
            check_types(value, *found)
        except TypeRefused as refused:
            raise Refused(refused.loc, refused.kind, refused.message) from None

    def _check_names(self, scope: Scope, query: bytes) -> None:
        """Refuse a query parameter the operation does not declare: ignored, it would change nothing unseen
        (`GET /tickets?queue=...` answered every ticket, as if filtered)."""
        declared = self.operations.query_names(scope)
        if declared is None:
            return
        for name in parse_qs(query.decode("latin-1"), keep_blank_values=True):
            if name not in declared:
                takes = ", ".join(sorted(declared)) or "none"
                message = f"unknown query parameter; this operation takes: {takes}"
                raise Refused(["query", name], "extra_forbidden", message)

    def _too_large(self) -> JSONResponse:
        return problem(413, f"the request body is over {self.max_bytes:,} bytes", error="PayloadTooLarge")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope.get("query_string"):
            try:
                query = check_query(scope["query_string"])
                self._check_names(scope, query)
            except Refused as refused:
                await refusal(refused)(scope, receive, send)
                return
            if query is not scope["query_string"]:
                scope = dict(scope) | {"query_string": query}
        media = _media(scope) if scope["type"] == "http" and scope["method"] in WRITES else None
        if media is None:
            await self.app(scope, receive, send)
            return
        declared = _declared_length(scope)
        if declared is not None and declared > self.max_bytes:
            await self._too_large()(scope, receive, send)
            return
        chunks: list[bytes] = []
        size, more = 0, True
        while more:
            message = await receive()
            if message["type"] != "http.request":  # the client went away
                await self.app(scope, _replay([message]), send)
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_bytes:
                await self._too_large()(scope, receive, send)
                return
            chunks.append(chunk)
            more = message.get("more_body", False)
        body = b"".join(chunks)
        try:
            passed, value = checked_body(body, media)
            self._check_types(scope, value)
        except Refused as refused:
            await refusal(refused)(scope, receive, send)
            return
        if passed is not body:  # normalised: the app must be told the new length
            scope = dict(scope) | {"headers": _with_length(scope["headers"], len(passed))}
        await self.app(scope, _replay([{"type": "http.request", "body": passed, "more_body": False}], receive), send)


def _with_length(headers: list[tuple[bytes, bytes]], length: int) -> list[tuple[bytes, bytes]]:
    kept = [(name, value) for name, value in headers if name != b"content-length"]
    return [*kept, (b"content-length", str(length).encode())]


def _replay(messages: list[Message], then: Receive | None = None) -> Receive:
    """A `receive` that gives these messages first, then defers to `then` (disconnects)."""
    pending = list(messages)

    async def receive() -> Message:
        if pending:
            return pending.pop(0)
        if then is None:
            return {"type": "http.disconnect"}
        return await then()

    return receive


def install_input_policy(app: Any, max_bytes: int = MAX_BODY_BYTES) -> None:
    """Check every query string, and every JSON or form body of a write, before any route reads it."""
    app.add_middleware(InputPolicyMiddleware, max_bytes=max_bytes)
    amend_openapi(app, add_text_rule)


NOT_SCHEMAS = frozenset({"examples", "example", "default", "const", "enum"})
"""Keys whose values are data, not schemas: never given a pattern."""


def add_text_rule(document: dict[str, Any]) -> None:
    """Give every request string in `document` the policy's `TEXT_PATTERN`.

    Query parameters, inline request bodies, and the component schemas only requests use
    (a schema that responses use too is left alone: what we answer may hold text that came
    in by other ways, such as a CSV import).
    """
    schemas = document.get("components", {}).get("schemas", {})
    requests: list[Any] = []
    responses: list[Any] = []
    for item in document.get("paths", {}).values():
        for operation in item.values():
            requests += [p.get("schema", {}) for p in operation.get("parameters", []) if p.get("in") == "query"]
            bodies = (operation.get("requestBody") or {}).get("content", {})
            requests += [m.get("schema", {}) for media, m in bodies.items() if kind_of(media)]
            responses.append(operation.get("responses", {}))
    for schema in requests:
        _add_pattern(schema)
    for name in _reachable(requests, schemas) - _reachable(responses, schemas):
        _add_pattern(schemas[name])


def _reachable(roots: list[Any], schemas: dict[str, Any]) -> set[str]:
    """The names of the component schemas `roots` refer to, directly or through other components."""
    found: set[str] = set()
    pending = list(roots)
    while pending:
        node = pending.pop()
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str) and ref.startswith("#/components/schemas/"):
                name = ref.rsplit("/", 1)[1]
                if name not in found and name in schemas:
                    found.add(name)
                    pending.append(schemas[name])
            pending += [value for key, value in node.items() if key not in NOT_SCHEMAS]
        elif isinstance(node, list):
            pending += node
    return found


def _add_pattern(schema: Any) -> None:
    if isinstance(schema, list):
        for item in schema:
            _add_pattern(item)
        return
    if not isinstance(schema, dict):
        return
    if schema.get("type") == "string" and not {"pattern", "format", "enum", "const"} & schema.keys():
        schema["pattern"] = TEXT_PATTERN
    for key, value in schema.items():
        if key not in NOT_SCHEMAS:
            _add_pattern(value)
