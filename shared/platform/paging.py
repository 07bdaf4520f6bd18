"""Every list endpoint pages the same way: `limit`, a cursor in `after`, and a `next` link.

Lists used to stop at whatever they held (or at a fixed `limit`) with no way to the
rest. Each list now takes `limit` (at most `MAX_LIMIT`) and `after`, and answers one page
in its documented order; when more follow, the answer carries `X-Next-Cursor` (pass it as
`after`) and `Link: <...>; rel="next"` (RFC 8288), as the customer list always did, and
`X-Total-Count`, since the lists here are counted in memory anyway.

The cursor is the sort key of the last row given (base64url JSON): the next page starts
strictly after it, so rows added or removed meanwhile never make a page repeat or skip
one that stayed. A key ends with the row's id, so it is unique.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable, Iterable
from typing import Annotated, Any, TypeVar
from urllib.parse import urlencode

from fastapi import Depends, Query, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute, RouteContext

from shared.platform.openapi import route_operations, uses

T = TypeVar("T")
Key = tuple[str | int | float, ...]
DEFAULT_LIMIT = 100
MAX_LIMIT = 500
HEADERS: dict[str, dict[str, Any]] = {
    "X-Next-Cursor": {"description": "Pass as `after` for the next page; absent on the last page.",
                      "schema": {"type": "string"}},
    "Link": {"description": "`<...>; rel=\"next\"` (RFC 8288): the next page; absent on the last page.",
             "schema": {"type": "string"}},
    "X-Total-Count": {"description": "How many rows the list holds in all.", "schema": {"type": "integer"}},
}  # fmt: skip


class Page:
    """The page a list request asks for, and the headers that lead to the next one."""

    def __init__(
        self,
        request: Request,
        response: Response,
        limit: Annotated[int, Query(ge=1, le=MAX_LIMIT, description="Rows per page.")] = DEFAULT_LIMIT,
        after: Annotated[
            str | None, Query(max_length=1000, description="The cursor of the next page (`X-Next-Cursor`).")
        ] = None,
    ) -> None:
        self.request, self.response, self.limit = request, response, limit
        self.after = _decode(after) if after else None

    def of(self, rows: Iterable[T], key: Callable[[T], Key], *, reverse: bool = False) -> list[T]:
        """This page of `rows` in the order of `key` (descending with `reverse`), and the headers for the next."""
        ordered = sorted(rows, key=key, reverse=reverse)
        total = len(ordered)
        if self.after is not None:
            ordered = _after(ordered, key, self.after, reverse)
        page = ordered[: self.limit]
        self.response.headers["X-Total-Count"] = str(total)
        if len(ordered) > self.limit:
            cursor = _encode(key(page[-1]))
            query = [(k, v) for k, v in self.request.query_params.multi_items() if k != "after"]
            self.response.headers["X-Next-Cursor"] = cursor
            link = f"{self.request.url.path}?{urlencode([*query, ('after', cursor)])}"
            self.response.headers["Link"] = f'<{link}>; rel="next"'
        return page


PageDep = Annotated[Page, Depends()]


def _after(rows: list[T], key: Callable[[T], Key], after: Key, reverse: bool) -> list[T]:
    try:
        return [r for r in rows if (key(r) < after if reverse else key(r) > after)]
    except TypeError:  # a cursor of another list (its key holds other types)
        raise _not_a_cursor() from None


def _not_a_cursor() -> RequestValidationError:
    return RequestValidationError(
        [{"type": "value_error", "loc": ("query", "after"), "msg": "not a cursor this list gave"}]
    )


def _encode(key: Key) -> str:
    return base64.urlsafe_b64encode(json.dumps(list(key), ensure_ascii=False).encode()).decode().rstrip("=")


def _decode(cursor: str) -> Key:
    try:
        value = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (binascii.Error, ValueError):
        value = None
    if not isinstance(value, list) or not all(isinstance(v, str | int | float) for v in value):
        raise _not_a_cursor()
    return tuple(value)


def pages_in(document: dict[str, Any], routes: Iterable[APIRoute | RouteContext]) -> None:
    """Document the paging headers on the 200 answer of every list that takes a `Page`."""
    for route, operation in route_operations(document, routes):
        if uses(route, Page) and "200" in operation.get("responses", {}):
            operation["responses"]["200"].setdefault("headers", {}).update(HEADERS)
