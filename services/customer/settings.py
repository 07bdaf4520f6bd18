"""Configuration of the customer service: `CRM_CUSTOMER_*` (nested with `__`)."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from shared.platform.eventstore import EventStoreSettings


class CustomerSettings(BaseSettings):
    """Everything the customer service's API and relay read from the environment."""

    model_config = SettingsConfigDict(env_prefix="CRM_CUSTOMER_", env_nested_delimiter="__", extra="ignore")

    host: str = "127.0.0.1"
    port: int = 8001
    metrics_host: str = "127.0.0.1"
    relay_batch_size: int = Field(default=500, ge=1, le=10_000)
    """Events per publish round trip; each batch's acks are awaited before its position is saved."""
    relay_metrics_port: int | None = None
    """Where the relay process serves /metrics (off when unset)."""
    default_phone_region: str | None = Field(default=None, description="ISO 3166 region for numbers without +.")
    store: EventStoreSettings = EventStoreSettings(sqlite_path=".local/data/customer.sqlite")
    log_level: str = "INFO"
