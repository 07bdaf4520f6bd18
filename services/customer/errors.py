"""The one place customer domain errors become HTTP answers."""

from __future__ import annotations

from fastapi import FastAPI, Request, status
from fastapi.responses import JSONResponse

from services.customer.contact import InvalidInput
from services.customer.domain import (
    CannotMergeIntoSelf,
    CannotRemoveLastContactPoint,
    ContactPointNotFound,
    CustomerErased,
    CustomerError,
    CustomerMerged,
    CustomerNotFound,
    DuplicateContactPoint,
    StaleVersion,
)

STATUS: dict[type[CustomerError], int] = {
    CustomerNotFound: status.HTTP_404_NOT_FOUND,
    ContactPointNotFound: status.HTTP_404_NOT_FOUND,
    StaleVersion: status.HTTP_409_CONFLICT,
    CustomerMerged: status.HTTP_409_CONFLICT,
    DuplicateContactPoint: status.HTTP_409_CONFLICT,
    CannotRemoveLastContactPoint: status.HTTP_409_CONFLICT,
    CustomerErased: status.HTTP_410_GONE,
    CannotMergeIntoSelf: status.HTTP_422_UNPROCESSABLE_CONTENT,
    InvalidInput: status.HTTP_422_UNPROCESSABLE_CONTENT,
}


def status_of(error: CustomerError) -> int:
    """The HTTP status of a domain error (most specific class wins)."""
    for cls in type(error).__mro__:
        if cls in STATUS:
            return STATUS[cls]
    return status.HTTP_400_BAD_REQUEST


async def _handle(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, CustomerError)
    body: dict[str, object] = {"detail": str(error), "error": type(error).__name__}
    if isinstance(error, CustomerMerged):
        body["survivor_id"] = str(error.survivor_id)
    return JSONResponse(body, status_code=status_of(error))


def install(app: FastAPI) -> None:
    """Map every `CustomerError` raised by a route to its HTTP status."""
    app.add_exception_handler(CustomerError, _handle)
