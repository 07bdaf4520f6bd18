"""The one place social domain errors become HTTP answers."""

from __future__ import annotations

from fastapi import FastAPI, Request, status
from fastapi.responses import JSONResponse

from services.social.credentials import CredentialsUnreadable
from services.social.domain import (
    ConnectorFailed,
    InvalidInput,
    InvalidState,
    NotFound,
    ReplayedDelivery,
    SocialError,
    StaleVersion,
    WebhookRejected,
)
from shared.platform.errors import install_error_table
from shared.platform.problems import problem

STATUS: dict[type[Exception], int] = {
    NotFound: status.HTTP_404_NOT_FOUND,
    StaleVersion: status.HTTP_409_CONFLICT,
    InvalidState: status.HTTP_409_CONFLICT,
    ReplayedDelivery: status.HTTP_409_CONFLICT,
    WebhookRejected: status.HTTP_401_UNAUTHORIZED,
    InvalidInput: status.HTTP_422_UNPROCESSABLE_CONTENT,
    ConnectorFailed: status.HTTP_502_BAD_GATEWAY,
}


async def _unreadable(request: Request, error: Exception) -> JSONResponse:
    # The configured key does not open this account's secrets: an operator problem, not the caller's.
    detail = "account credentials cannot be read with the configured key"
    return problem(status.HTTP_500_INTERNAL_SERVER_ERROR, detail, error=type(error).__name__)


def install(app: FastAPI) -> None:
    """Map every `SocialError` raised by a route to its HTTP status."""
    install_error_table(app, SocialError, STATUS)
    app.add_exception_handler(CredentialsUnreadable, _unreadable)
