"""The one place support domain errors become HTTP answers."""

from __future__ import annotations

from fastapi import FastAPI, status

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
from shared.platform.errors import install_error_table

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


def install(app: FastAPI) -> None:
    """Map every `SupportError` raised by a route to its HTTP status."""
    install_error_table(app, SupportError, STATUS)
