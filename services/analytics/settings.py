"""Configuration of the analytics service: `CRM_ANALYTICS_*`."""

from __future__ import annotations

from pydantic import AliasChoices, Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class AnalyticsSettings(BaseSettings):
    """Everything the analytics API and projector read from the environment."""

    model_config = SettingsConfigDict(env_prefix="CRM_ANALYTICS_", extra="ignore")

    host: str = "127.0.0.1"
    port: int = 8010
    metrics_host: str = "127.0.0.1"
    projector_metrics_port: int | None = None
    mongo_url: str = Field(
        default="mongodb://127.0.0.1:27017/",
        validation_alias=AliasChoices("CRM_ANALYTICS_MONGO_URL", "CRM_MONGO_URL"),
    )
    database: str = "crm_analytics"
    group_id: str = "analytics"
    """Kafka consumer group of the projector; its dead letters go to `crm.dlq.<group>.v1`."""
    batch_size: int = Field(default=500, ge=1, le=10_000)
    """Records the projector reads and writes per round trip while catching up."""
    retry_delay_seconds: float = 1.0
    """Pause before re-reading a message whose store write failed (the store may be down)."""
    log_level: str = "INFO"
