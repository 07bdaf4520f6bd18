"""Domain errors → HTTP answers, the same way in every service.

Each service declares one table from its error classes to statuses (its `errors.py`);
this module turns a raised domain error into a problem (`problems.py`: RFC 9457, `detail`
the message, `error` the class name) with the status of its most specific class in the
table, so clients see one error shape.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from fastapi import FastAPI, Request, status
from fastapi.responses import JSONResponse

from shared.platform.problems import problem

E = TypeVar("E", bound=Exception)
Extra = Callable[[Exception], dict[str, Any]]


def status_of(error: Exception, table: Mapping[type[E], int], default: int = status.HTTP_400_BAD_REQUEST) -> int:
    """The status of the most specific class of `error` in `table`, else `default`."""
    for cls in type(error).__mro__:
        if cls in table:
            return table[cls]
    return default


def install_error_table(
    app: FastAPI,
    base: type[Exception] | tuple[type[Exception], ...],
    table: Mapping[type[E], int],
    extra: Extra | None = None,
) -> None:
    """Answer every `base` error a route raises with its status from `table` (plus `extra(error)` fields)."""

    async def handle(request: Request, error: Exception) -> JSONResponse:
        return problem(
            status_of(error, table), str(error), error=type(error).__name__, **(extra(error) if extra else {})
        )

    for cls in base if isinstance(base, tuple) else (base,):
        app.add_exception_handler(cls, handle)
