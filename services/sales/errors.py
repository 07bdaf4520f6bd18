"""The one place sales domain errors become HTTP answers."""

from __future__ import annotations

from fastapi import FastAPI, Request, status
from fastapi.responses import JSONResponse

from services.sales.domain import (
    DuplicateLead,
    InvalidInput,
    InvalidTransition,
    NotFound,
    NotOwner,
    QuoteExpired,
    RefundTooLarge,
    SalesError,
    StaleVersion,
)

STATUS: dict[type[SalesError], int] = {
    NotFound: status.HTTP_404_NOT_FOUND,
    StaleVersion: status.HTTP_409_CONFLICT,
    DuplicateLead: status.HTTP_409_CONFLICT,
    InvalidTransition: status.HTTP_409_CONFLICT,
    QuoteExpired: status.HTTP_409_CONFLICT,
    NotOwner: status.HTTP_403_FORBIDDEN,
    RefundTooLarge: status.HTTP_422_UNPROCESSABLE_CONTENT,
    InvalidInput: status.HTTP_422_UNPROCESSABLE_CONTENT,
}


def status_of(error: SalesError) -> int:
    """The HTTP status of a domain error (most specific class wins)."""
    for cls in type(error).__mro__:
        if cls in STATUS:
            return STATUS[cls]
    return status.HTTP_400_BAD_REQUEST


async def _handle(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, SalesError)
    body: dict[str, object] = {"detail": str(error), "error": type(error).__name__}
    if isinstance(error, DuplicateLead):
        body["existing_id"] = str(error.existing)
    return JSONResponse(body, status_code=status_of(error))


def install(app: FastAPI) -> None:
    """Map every `SalesError` raised by a route to its HTTP status."""
    app.add_exception_handler(SalesError, _handle)
