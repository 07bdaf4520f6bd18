"""The one place support domain errors become HTTP answers."""

from __future__ import annotations

from fastapi import FastAPI, Request, status
from fastapi.responses import JSONResponse

from services.support.domain import (
    AlreadyRecorded,
    CustomerErased,
    IllegalTransition,
    InvalidInput,
    NotAllowed,
    NotFound,
    ReopenWindowClosed,
    StaleVersion,
    SupportError,
    SurveyAlreadyAnswered,
    SurveyForged,
    SurveyNotAvailable,
    TicketClosed,
    TicketErased,
)

STATUS: dict[type[SupportError], int] = {
    NotFound: status.HTTP_404_NOT_FOUND,
    StaleVersion: status.HTTP_409_CONFLICT,
    IllegalTransition: status.HTTP_409_CONFLICT,
    ReopenWindowClosed: status.HTTP_409_CONFLICT,
    TicketClosed: status.HTTP_409_CONFLICT,
    AlreadyRecorded: status.HTTP_409_CONFLICT,
    SurveyAlreadyAnswered: status.HTTP_409_CONFLICT,
    SurveyNotAvailable: status.HTTP_410_GONE,
    TicketErased: status.HTTP_410_GONE,
    CustomerErased: status.HTTP_410_GONE,
    SurveyForged: status.HTTP_403_FORBIDDEN,
    NotAllowed: status.HTTP_403_FORBIDDEN,
    InvalidInput: status.HTTP_422_UNPROCESSABLE_CONTENT,
}


def status_of(error: SupportError) -> int:
    """The HTTP status of a domain error (most specific class wins)."""
    for cls in type(error).__mro__:
        if cls in STATUS:
            return STATUS[cls]
    return status.HTTP_400_BAD_REQUEST


async def _handle(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, SupportError)
    return JSONResponse({"detail": str(error), "error": type(error).__name__}, status_code=status_of(error))


def install(app: FastAPI) -> None:
    """Map every `SupportError` raised by a route to its HTTP status."""
    app.add_exception_handler(SupportError, _handle)
