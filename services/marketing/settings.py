"""Configuration of the marketing service: `CRM_MARKETING_*` (nested with `__`), SMTP from `CRM_SMTP_*`."""

from __future__ import annotations

from pydantic import AliasChoices, Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from services.marketing.tokens import MIN_SECRET_LENGTH, TokenSigner
from shared.platform.eventstore import EventStoreSettings


class MarketingSettings(BaseSettings):
    """Everything the marketing API, relay, consumers and sender read from the environment."""

    model_config = SettingsConfigDict(
        env_prefix="CRM_MARKETING_", env_nested_delimiter="__", extra="ignore", populate_by_name=True
    )

    host: str = "127.0.0.1"
    port: int = 8003
    metrics_host: str = "127.0.0.1"
    public_url: str | None = Field(
        default=None, description="Base URL of the tracking and unsubscribe links (default: http://host:port)."
    )
    tracking_secret: SecretStr | None = Field(
        default=None, description=f"HMAC key of tracking tokens, {MIN_SECRET_LENGTH}+ characters; no default."
    )
    relay_batch_size: int = Field(default=500, ge=1, le=10_000)
    relay_metrics_port: int | None = None
    store: EventStoreSettings = EventStoreSettings(sqlite_path=".local/data/marketing.sqlite")
    log_level: str = "INFO"

    smtp_host: str = Field(
        default="127.0.0.1", validation_alias=AliasChoices("CRM_MARKETING_SMTP_HOST", "CRM_SMTP_HOST")
    )
    smtp_port: int = Field(default=25, validation_alias=AliasChoices("CRM_MARKETING_SMTP_PORT", "CRM_SMTP_PORT"))
    smtp_timeout: float = Field(default=30.0, gt=0)
    mail_from: str = Field(default="marketing@crm.example", description="Envelope sender and From: address.")
    sms_gateway_url: str | None = Field(default=None, description="POST endpoint of the SMS gateway.")
    email_rate: float = Field(default=200.0, gt=0, description="Most emails sent per second (throttle).")
    sms_rate: float = Field(default=20.0, gt=0, description="Most SMS sent per second (throttle).")
    max_attempts: int = Field(default=4, ge=1, le=10, description="Tries per message on temporary failures.")
    retry_base_seconds: float = Field(default=0.5, ge=0, description="First backoff; doubles per try.")
    poll_seconds: float = Field(default=0.5, gt=0, description="How often the sender looks for due campaigns.")
    analytics_url: str | None = Field(
        default=None, description="Base URL of the analytics API that answers metric segment conditions."
    )

    def signer(self) -> TokenSigner:
        """The tracking-token signer; refuses to start without a proper secret."""
        secret = self.tracking_secret.get_secret_value() if self.tracking_secret else ""
        if len(secret) < MIN_SECRET_LENGTH:
            raise SystemExit(
                f"CRM_MARKETING_TRACKING_SECRET must be set to {MIN_SECRET_LENGTH}+ random characters "
                "(e.g. `openssl rand -hex 32`)"
            )
        return TokenSigner(secret)

    def base_url(self) -> str:
        """Where customers reach the public tracking endpoints."""
        return (self.public_url or f"http://{self.host}:{self.port}").rstrip("/")
