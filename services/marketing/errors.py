"""The one place marketing domain errors become HTTP answers."""

from __future__ import annotations

from fastapi import FastAPI, Request, status
from fastapi.responses import JSONResponse

from services.marketing.domain import InvalidInput, MarketingError, NotFound, StaleVersion, WrongStatus
from services.marketing.rules import MetricsUnavailable

STATUS: dict[type[Exception], int] = {
    NotFound: status.HTTP_404_NOT_FOUND,
    StaleVersion: status.HTTP_409_CONFLICT,
    WrongStatus: status.HTTP_409_CONFLICT,
    InvalidInput: status.HTTP_422_UNPROCESSABLE_CONTENT,
    MetricsUnavailable: status.HTTP_503_SERVICE_UNAVAILABLE,
}


def status_of(error: Exception) -> int:
    """The HTTP status of a domain error (most specific class wins)."""
    for cls in type(error).__mro__:
        if cls in STATUS:
            return STATUS[cls]
    return status.HTTP_400_BAD_REQUEST


async def _handle(request: Request, error: Exception) -> JSONResponse:
    return JSONResponse({"detail": str(error), "error": type(error).__name__}, status_code=status_of(error))


def install(app: FastAPI) -> None:
    """Map every marketing domain error raised by a route to its HTTP status."""
    app.add_exception_handler(MarketingError, _handle)
    app.add_exception_handler(MetricsUnavailable, _handle)
