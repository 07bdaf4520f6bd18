"""Configuration of the sales service: `CRM_SALES_*` (nested with `__`, JSON for lists and maps)."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from services.sales.assignment import AssignmentRules
from services.sales.pipeline import Pipeline
from services.sales.scoring import ScoringRules
from shared.platform.eventstore import EventStoreSettings


class SalesSettings(BaseSettings):
    """Everything the sales API, relay and consumers read from the environment."""

    model_config = SettingsConfigDict(env_prefix="CRM_SALES_", env_nested_delimiter="__", extra="ignore")

    host: str = "127.0.0.1"
    port: int = 8002
    metrics_host: str = "127.0.0.1"
    relay_batch_size: int = Field(default=500, ge=1, le=10_000)
    """Events per publish round trip; each batch's acks are awaited before its position is saved."""
    relay_metrics_port: int | None = None
    default_phone_region: str | None = Field(default=None, description="ISO 3166 region for numbers without +.")
    capturer_keeps_access: bool = Field(
        default=True, description="A rep keeps reading a lead they captured after it is assigned to someone else."
    )
    import_chunk_rows: int = Field(default=1000, ge=1, le=20_000)
    """Rows saved per transaction by an import."""
    expiry_interval_seconds: float = Field(default=60.0, gt=0)
    """How often the quote-expiry worker looks for quotes past their valid-until date."""
    scoring: ScoringRules = ScoringRules()
    assignment: AssignmentRules = AssignmentRules()
    pipeline: Pipeline = Pipeline()
    commit_threshold: float = Field(default=0.7, ge=0, le=1)
    """Open deals at or above this probability count as forecast *commit*."""
    best_case_threshold: float = Field(default=0.3, ge=0, le=1)
    """Open deals at or above this probability count as forecast *best case*."""
    store: EventStoreSettings = EventStoreSettings(sqlite_path=".local/data/sales.sqlite")
    log_level: str = "INFO"
