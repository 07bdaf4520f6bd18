"""The one place customer domain errors become HTTP answers."""

from __future__ import annotations

from fastapi import FastAPI, status

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
from shared.platform.errors import install_error_table

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


def _survivor(error: Exception) -> dict[str, object]:
    """A merged customer's answer says where to go instead."""
    return {"survivor_id": str(error.survivor_id)} if isinstance(error, CustomerMerged) else {}


def install(app: FastAPI) -> None:
    """Map every `CustomerError` raised by a route to its HTTP status."""
    install_error_table(app, CustomerError, STATUS, extra=_survivor)
