"""Configuration of the support service: `CRM_SUPPORT_*` (nested with `__`)."""

from __future__ import annotations

from datetime import datetime, timedelta

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from shared.events.timestamps import IsoDateTime
from shared.platform.eventstore import EventStoreSettings


class SupportSettings(BaseSettings):
    """Everything the support API, relay, consumers and scheduler read from the environment."""

    model_config = SettingsConfigDict(env_prefix="CRM_SUPPORT_", env_nested_delimiter="__", extra="ignore")

    host: str = "127.0.0.1"
    port: int = 8004
    metrics_host: str = "127.0.0.1"
    relay_batch_size: int = Field(default=500, ge=1, le=10_000)
    relay_metrics_port: int | None = None
    survey_secret: SecretStr | None = Field(
        default=None, description="HMAC-SHA256 key of survey links, 32+ characters; required by the API."
    )
    survey_base_url: str = Field(
        default="http://127.0.0.1:8004/surveys/", description="Where customers answer; the token is appended."
    )
    scheduler_interval_seconds: float = Field(default=30.0, gt=0, description="How often the scheduler looks.")
    scheduler_now: IsoDateTime | None = Field(
        default=None,
        description="Test/ops setting: the scheduler's fixed 'now' (to replay an instant). Unset in production.",
    )
    scheduler_offset_seconds: float = Field(
        default=0.0, description="Test/ops setting: shifts the scheduler's clock by this many seconds."
    )
    store: EventStoreSettings = EventStoreSettings(sqlite_path=".local/data/support.sqlite")
    log_level: str = "INFO"

    def require_survey_secret(self) -> str:
        """The survey secret, or a clear start-up failure: there is no default key."""
        if self.survey_secret is None or len(self.survey_secret.get_secret_value()) < 32:
            raise SystemExit("CRM_SUPPORT_SURVEY_SECRET must be set to 32+ random characters (`openssl rand -hex 32`)")
        return self.survey_secret.get_secret_value()

    def scheduler_clock_reading(self, real: datetime) -> datetime:
        """What the scheduler takes for now, given the real time."""
        return (
            self.scheduler_now
            if self.scheduler_now is not None
            else real + timedelta(seconds=self.scheduler_offset_seconds)
        )
