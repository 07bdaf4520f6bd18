"""OpenAPI documents amended after FastAPI generates them, so what a document says matches what the app does.

Some answers and rules are not written on any route: the problem answers (`problems.py`),
the paging headers (`paging.py`) and the input policy's text rule (`inputpolicy.py`) apply
to every operation they concern. Each such part amends the generated document once, with
the helpers here, instead of every router repeating them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Any

from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute, RouteContext, iter_route_contexts

Amend = Callable[[dict[str, Any]], None]


def amend_openapi(app: FastAPI, amend: Amend) -> None:
    """Run `amend` on `app`'s document the first time it is generated (FastAPI then serves the cached one)."""
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is not None:
            return app.openapi_schema
        document = generate()
        amend(document)
        return document

    app.openapi = openapi  # type: ignore[method-assign]


def api_routes(app: FastAPI) -> list[RouteContext]:
    """The app's API routes as the document sees them (included routers' routes with their prefixes)."""
    return [c for c in iter_route_contexts(app.routes) if isinstance(c.original_route, APIRoute)]


def route_operations(
    document: dict[str, Any], routes: Iterable[APIRoute | RouteContext]
) -> Iterator[tuple[APIRoute | RouteContext, dict[str, Any]]]:
    """Each documented route with its operation in `document`, once per method."""
    for route in routes:
        if not route.include_in_schema:
            continue
        for method in route.methods or ():
            operation = document["paths"].get(route.path_format, {}).get(method.lower())
            if operation is not None:
                yield route, operation


def uses(route: APIRoute | RouteContext, call: Callable[..., Any]) -> bool:
    """Whether `call` is anywhere in the route's dependency tree (a bearer check, a `Page`)."""
    return any(dependant.call is call for dependant in dependants(route.dependant))


def dependants(dependant: Dependant) -> Iterator[Dependant]:
    """`dependant` and every dependency under it."""
    yield dependant
    for sub in dependant.dependencies:
        yield from dependants(sub)
