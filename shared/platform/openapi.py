"""OpenAPI documents amended after FastAPI generates them, so what a document says matches what the app does.

Some answers and rules are not written on any route: the problem answers (`problems.py`)
and the input policy's text rule (`inputpolicy.py`) apply to every operation. Each such
part amends the generated document once, here, instead of every router repeating them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import FastAPI
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
