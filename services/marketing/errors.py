"""The one place marketing domain errors become HTTP answers."""

from __future__ import annotations

from fastapi import FastAPI, status

from services.marketing.domain import InvalidInput, MarketingError, NotFound, StaleVersion, WrongStatus
from services.marketing.rules import MetricConditionRefused, MetricsUnavailable
from shared.platform.errors import install_error_table

STATUS: dict[type[Exception], int] = {
    NotFound: status.HTTP_404_NOT_FOUND,
    StaleVersion: status.HTTP_409_CONFLICT,
    WrongStatus: status.HTTP_409_CONFLICT,
    InvalidInput: status.HTTP_422_UNPROCESSABLE_CONTENT,
    MetricsUnavailable: status.HTTP_503_SERVICE_UNAVAILABLE,
    MetricConditionRefused: status.HTTP_422_UNPROCESSABLE_CONTENT,
}


def install(app: FastAPI) -> None:
    """Map every marketing domain error raised by a route to its HTTP status."""
    install_error_table(app, (MarketingError, MetricsUnavailable, MetricConditionRefused), STATUS)
