"""Configuration of the analytics service: `CRM_ANALYTICS_*`."""

from __future__ import annotations

from datetime import date
from typing import Any, Literal

from pydantic import AliasChoices, BaseModel, Field
from pydantic_settings import BaseSettings, SettingsConfigDict
from pymongo import AsyncMongoClient


class MetricsSettings(BaseModel):
    """Rules of RFM, lifecycle stage and value tier (`CRM_ANALYTICS_METRICS__*`); see the README."""

    currency: str = Field(default="USD", pattern="^[A-Z]{3}$")
    """Revenue and monetary value count orders in this ISO 4217 currency only (no FX guessing)."""
    new_days: int = Field(default=30, ge=1)
    """New: the first purchase was at most this many days before `as_of`."""
    active_days: int = Field(default=90, ge=1)
    """Active: the last purchase was at most this many days before `as_of`."""
    returning_gap_days: int = Field(default=180, ge=1)
    """Returning: active, and the gap before the last purchase was longer than this."""
    churned_days: int = Field(default=365, ge=1)
    """Churned: no purchase for more than this many days (dormant in between `active_days` and this)."""
    tier_basis: Literal["revenue", "clv"] = "revenue"
    """What ranks customers for the value tier: revenue to date, or the last fitted CLV."""
    high_value_quantile: float = Field(default=0.8, gt=0, lt=1)
    """High value: at least this share of purchasers has a strictly lower value."""
    potential_quantile: float = Field(default=0.5, gt=0, lt=1)
    """Potential: below high value but at or above this quantile, or new."""
    conversion_days: int = Field(default=30, ge=1)
    """Campaign funnel: a recipient converts if they purchase within this many days after the send."""


class ModelSettings(BaseModel):
    """BG/NBD + Gamma-Gamma CLV and churn model settings (`CRM_ANALYTICS_MODELS__*`); see the README."""

    currency: str = Field(default="USD", pattern="^[A-Z]{3}$")
    """The models fit on orders in this ISO 4217 currency; CLV is in it."""
    calibration_end: date | None = None
    """Last day (UTC) of the calibration period; unset = the day of the refit."""
    time_unit_days: float = Field(default=7.0, gt=0)
    """The models' time unit in days (7 = weeks, as in the literature)."""
    horizon_days: int = Field(default=365, ge=1, le=3650)
    """CLV and expected purchases look this many days ahead of the calibration end."""
    discount_rate: float = Field(default=0.10, ge=0, le=1)
    """Annual discount rate of future purchases in the CLV."""
    margin: float = Field(default=1.0, gt=0, le=1)
    """Share of revenue that is profit; 1 makes CLV the discounted expected revenue."""
    churn_holdout_days: int = Field(default=90, ge=1, le=3650)
    """Churn label: no purchase in this many days after the training cut."""
    refit_interval_seconds: float = Field(default=86_400, gt=0)
    """How often `analytics-jobs` recomputes metrics, CLV and churn."""
    retry_seconds: float = Field(default=300, gt=0)
    """After a skipped refit (too few purchases yet, store down), try again this soon (capped by the interval)."""


class RebuildSettings(BaseModel):
    """How `crm rebuild analytics` reads and checkpoints (`CRM_ANALYTICS_REBUILD__*`)."""

    batch_size: int = Field(default=5_000, ge=1, le=100_000)
    """Records read and folded per round trip (the timeline is written per batch)."""
    checkpoint_records: int = Field(default=200_000, ge=1)
    """Write the 360 documents and commit the offsets after this many records (a crash resumes from there)."""
    checkpoint_seconds: float = Field(default=120.0, gt=0)
    """... or after this long, whichever comes first."""


class AnalyticsSettings(BaseSettings):
    """Everything the analytics API and projector read from the environment."""

    model_config = SettingsConfigDict(env_prefix="CRM_ANALYTICS_", env_nested_delimiter="__", extra="ignore")

    host: str = "127.0.0.1"
    port: int = 8010
    metrics_host: str = "127.0.0.1"
    projector_metrics_port: int | None = None
    mongo_url: str = Field(
        default="mongodb://127.0.0.1:27017/",
        validation_alias=AliasChoices("CRM_ANALYTICS_MONGO_URL", "CRM_MONGO_URL"),
    )
    mongo_timeout_seconds: float = Field(default=60.0, gt=0)
    """Longest wait for one read store round trip (a query, one batch of a cursor, one bulk) before it
    fails: a hung store becomes an error the caller can report, never a request held forever."""
    database: str = "crm_analytics"
    group_id: str = "analytics"
    """Kafka consumer group of the projector; its dead letters go to `crm.dlq.<group>.v1`."""
    batch_size: int = Field(default=500, ge=1, le=10_000)
    """Records the projector reads and writes per round trip while catching up."""
    bulk_chunk: int = Field(default=1_000, ge=1, le=100_000)
    """360 documents per `bulk_write`, so a default batch is one bulk. It only bounds one command's
    size: our patched FerretDB no longer hangs on bulks of 100+ (README, "Read store")."""
    retry_delay_seconds: float = 1.0
    """Pause before re-reading a message whose store write failed (the store may be down)."""
    log_level: str = "INFO"
    metrics: MetricsSettings = MetricsSettings()
    """RFM, lifecycle and value tier rules."""
    models: ModelSettings = ModelSettings()
    """CLV and churn model settings."""
    rebuild: RebuildSettings = RebuildSettings()
    """Batching and checkpoints of `crm rebuild analytics`."""


def mongo_client(settings: AnalyticsSettings) -> AsyncMongoClient[dict[str, Any]]:
    """The read store client every analytics process uses: aware datetimes, bounded round trips."""
    timeout_ms = int(settings.mongo_timeout_seconds * 1000)
    return AsyncMongoClient(
        settings.mongo_url, tz_aware=True, socketTimeoutMS=timeout_ms, serverSelectionTimeoutMS=min(timeout_ms, 30_000)
    )
