"""One error model for every service: RFC 9457 problem details, answered and documented the same way.

Outside clients (schemathesis over all six OpenAPI documents) found three error shapes:
domain errors as `{"detail": str}`, FastAPI's validation errors as `{"detail": [...]}`,
and whatever each service had written into its OpenAPI, which contradicted one or the
other. Now every 4xx/5xx body is `application/problem+json`:

    {"type": "about:blank", "title": "Conflict", "status": 409,
     "detail": "ticket 4c1e... is at version 3, not 2", "error": "StaleVersion"}

`detail` is always one readable sentence; `error` names the domain rule (a stable,
machine-readable key; RFC 9457 "extension member"); a 422 from validation also lists
each invalid field in `errors` (`loc`, `msg`, `type`), never echoing the input, so an
answer cannot fail on the value it refuses. `type` stays `about:blank`, so `title` is
the status phrase, as the RFC asks.

And every operation's OpenAPI lists the codes it can answer, derived from the route
itself rather than hand-written per router (the copies drifted): 401/403 where a bearer
token is checked, 422 where there is anything to validate, 413 and 422 on every write
(the input policy reads their bodies), 400 where a body is parsed; the service declares
only its domain answers (404, 409, 410, 503...). `install_problems` wires both.
"""

from __future__ import annotations

import http
import json
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute, RouteContext, iter_route_contexts
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match

from shared.platform.auth import current_principal
from shared.platform.openapi import amend_openapi, api_routes, dependants, route_operations, uses

MEDIA_TYPE = "application/problem+json"
WRITES = frozenset({"POST", "PUT", "PATCH", "DELETE"})


class FieldProblem(BaseModel):
    """One invalid field: where it is and what is wrong with it (its value is never echoed)."""

    loc: list[str | int] = Field(examples=[["body", "email"]])
    msg: str = Field(examples=["value is not a valid email address"])
    type: str = Field(examples=["value_error"])


class Problem(BaseModel):
    """RFC 9457 problem details: the body of every 4xx and 5xx answer of every service."""

    type: str = Field(default="about:blank", description="`about:blank`: the status code says what happened.")
    title: str = Field(examples=["Conflict"], description="The HTTP status phrase.")
    status: int = Field(examples=[409])
    detail: str = Field(
        examples=["ticket 4c1e... is at version 3, not 2"], description="What went wrong, for a person."
    )
    error: str | None = Field(
        default=None, examples=["StaleVersion"], description="The domain rule that refused the request, for a program."
    )
    errors: list[FieldProblem] | None = Field(default=None, description="Each invalid field (validation answers).")


def problem(
    status: int,
    detail: str,
    *,
    error: str | None = None,
    errors: Sequence[Mapping[str, Any]] | None = None,
    headers: Mapping[str, str] | None = None,
    **extensions: Any,
) -> JSONResponse:
    """The answer for a refused or failed request, as `application/problem+json`."""
    body: dict[str, Any] = {"type": "about:blank", "title": _title(status), "status": status, "detail": detail}
    if error is not None:
        body["error"] = error
    if errors is not None:
        body["errors"] = [dict(item) for item in errors]
    body |= extensions
    return JSONResponse(body, status_code=status, headers=dict(headers or {}), media_type=MEDIA_TYPE)


def _title(status: int) -> str:
    try:
        return http.HTTPStatus(status).phrase
    except ValueError:
        return "Error"


def field_problems(errors: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Pydantic/FastAPI error items as `FieldProblem`s: location, message and kind, no input, no context."""
    return [
        {"loc": [part if isinstance(part, int) else str(part) for part in item.get("loc", ())],
         "msg": str(item.get("msg", "")), "type": str(item.get("type", "value_error"))}
        for item in errors
    ]  # fmt: skip


def summary(errors: Sequence[Mapping[str, Any]]) -> str:
    """One sentence for `detail`: the first invalid field and how many others there are."""
    if not errors:
        return "the request is invalid"
    first = errors[0]
    where = ".".join(str(part) for part in first["loc"]) or "request"
    more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
    return f"{where}: {first['msg']}{more}"


def validation_problem(errors: Iterable[Mapping[str, Any]]) -> JSONResponse:
    """The 422 answer naming every invalid field."""
    items = field_problems(errors)
    return problem(422, summary(items), error="ValidationFailed", errors=items)


async def _http_problem(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    headers = dict(exc.headers or {})
    if exc.status_code == 405:
        headers["Allow"] = ", ".join(allowed_methods(request))
    detail = exc.detail if isinstance(exc.detail, str) else json.dumps(exc.detail, default=str)
    return problem(exc.status_code, detail, headers=headers)


async def _validation_problem(request: Request, exc: Exception) -> JSONResponse:
    return validation_problem(exc.errors() if isinstance(exc, RequestValidationError) else [])


async def _server_problem(request: Request, exc: Exception) -> JSONResponse:
    return problem(500, "the service failed to answer this request; it has been logged", error="InternalError")


def allowed_methods(request: Request) -> list[str]:
    """Every method some route serves at this path (Starlette's 405 names only the first route's)."""
    methods: set[str] = set()
    for route in iter_route_contexts(request.app.router.routes):
        match, _ = route.matches({**request.scope, "method": "OPTIONS"})
        if match is not Match.NONE:
            methods |= route.methods or set()
    return sorted(methods)


def install_problems(app: FastAPI) -> None:
    """Answer every HTTP, validation and unexpected error as a problem, and document it that way."""
    app.add_exception_handler(StarletteHTTPException, _http_problem)
    app.add_exception_handler(RequestValidationError, _validation_problem)
    app.add_exception_handler(Exception, _server_problem)
    _document_problems(app)


# -- OpenAPI -------------------------------------------------------------------------------------

GENERIC = {
    400: "The body could not be parsed.",
    401: "Missing, invalid or expired bearer token.",
    403: "The caller's roles (or, for a record, its owner or queue) do not allow this.",
    413: "The body is over the size limit (1 MiB by default).",
    422: "A parameter or the body is invalid; `errors` names each field and nothing was changed.",
}
REF = "#/components/schemas/"


def derived_codes(route: APIRoute | RouteContext) -> set[int]:
    """The generic codes this route can answer, read from its parameters, body and dependencies."""
    codes: set[int] = set()
    if uses(route, current_principal):
        codes |= {401, 403}
    if any(d.path_params or d.query_params or d.header_params or d.cookie_params for d in dependants(route.dependant)):
        codes.add(422)
    if route.body_field is not None:
        codes |= {400, 422}
    if (route.methods or set()) & WRITES:
        codes |= {413, 422}  # the input policy reads every write's JSON or form body
    return codes


def _document_problems(app: FastAPI) -> None:
    def amend(document: dict[str, Any]) -> None:
        add_problems(document, api_routes(app))

    amend_openapi(app, amend)


def add_problems(document: dict[str, Any], routes: Sequence[APIRoute | RouteContext]) -> None:
    """Add each route's derived codes and make every 4xx/5xx answer a problem in `document`."""
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    for model in (Problem, FieldProblem):
        schemas[model.__name__] = model.model_json_schema(ref_template=REF + "{model}")
    schemas["Problem"].pop("$defs", None)
    for route, operation in route_operations(document, routes):
        responses = operation.setdefault("responses", {})
        for code in sorted(derived_codes(route)):
            responses.setdefault(str(code), {"description": GENERIC[code]})
        page = _media_type_of(route) or _page_of(responses)
        for code, response in responses.items():
            if code[0] in "45":
                _as_problem(response, code, page)
    _drop_unused(document, schemas, ("HTTPValidationError", "ValidationError"))


def _media_type_of(route: APIRoute | RouteContext) -> str | None:
    """The media type of a route that answers pages (HTML), else None: its own refusals are pages too."""
    response_class = route.response_class
    media = getattr(response_class, "media_type", None)
    return media if isinstance(media, str) and "json" not in media else None


def _page_of(responses: dict[str, Any]) -> str | None:
    """`text/html` when the route answers a browser with a page (its 200 lists one): then its refusals are too."""
    success = responses.get("200") or responses.get("201") or {}
    return "text/html" if "text/html" in (success.get("content") or {}) else None


def _as_problem(response: dict[str, Any], code: str, page: str | None) -> None:
    """Document an error answer as a problem (and, for a page route, as a page: a browser form's refusals)."""
    content = response.get("content") or {}
    schema = (content.get("application/json") or {}).get("schema")
    if schema is None or schema.get("$ref") in (REF + "HTTPValidationError",):
        schema = {"$ref": REF + "Problem"}
    if code == "422" and response.get("description") == "Validation Error":
        response["description"] = GENERIC[422]
    response["content"] = {MEDIA_TYPE: {"schema": schema}} | ({page: {}} if page else {})


def _drop_unused(document: dict[str, Any], schemas: dict[str, Any], names: Iterable[str]) -> None:
    for name in names:
        if name in schemas:
            text = json.dumps({k: v for k, v in document.items() if k != "components"}) + json.dumps(
                {k: v for k, v in schemas.items() if k != name}
            )
            if f'"{REF}{name}"' not in text:
                del schemas[name]
