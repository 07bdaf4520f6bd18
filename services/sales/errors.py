"""The one place sales domain errors become HTTP answers."""

from __future__ import annotations

from fastapi import FastAPI, status

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
from shared.platform.errors import install_error_table

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


def _existing(error: Exception) -> dict[str, object]:
    """A duplicate lead's answer names the open lead it duplicates."""
    return {"existing_id": str(error.existing)} if isinstance(error, DuplicateLead) else {}


def install(app: FastAPI) -> None:
    """Map every `SalesError` raised by a route to its HTTP status."""
    install_error_table(app, SalesError, STATUS, extra=_existing)
