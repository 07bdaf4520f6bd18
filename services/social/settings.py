"""Configuration of the social service: `CRM_SOCIAL_*` (nested with `__`)."""

from __future__ import annotations

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from services.social.credentials import CredentialCipher, parse_key
from shared.platform.eventstore import EventStoreSettings


class SocialSettings(BaseSettings):
    """Everything the social API, relay, consumers and scheduler read from the environment."""

    model_config = SettingsConfigDict(env_prefix="CRM_SOCIAL_", env_nested_delimiter="__", extra="ignore")

    host: str = "127.0.0.1"
    port: int = 8005
    metrics_host: str = "127.0.0.1"
    credentials_key: SecretStr | None = Field(
        default=None, description="Base64 of 32 random bytes; encrypts account credentials. Required, no default."
    )
    webhook_tolerance_seconds: float = Field(default=300.0, gt=0, le=3600)
    """How far a delivery's signing time may be from now before it is refused as stale."""
    publish_max_attempts: int = Field(default=4, ge=1, le=20)
    """Publish attempts per post before `PublishFailed`."""
    publish_backoff_seconds: float = Field(default=30.0, gt=0)
    """Wait before the 2nd attempt; doubled before each later one."""
    scheduler_interval_seconds: float = Field(default=1.0, gt=0)
    """How often the scheduler looks for due posts."""
    relay_batch_size: int = Field(default=500, ge=1, le=10_000)
    relay_metrics_port: int | None = None
    store: EventStoreSettings = EventStoreSettings(sqlite_path=".local/data/social.sqlite")
    log_level: str = "INFO"

    def cipher(self) -> CredentialCipher:
        """The credentials cipher; fails clearly when the key is missing or malformed."""
        key = self.credentials_key.get_secret_value() if self.credentials_key else None
        return CredentialCipher(parse_key(key))
