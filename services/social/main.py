"""The social API process: `create_app(settings)` wires everything; `main()` serves it."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi_offline import FastAPIOffline

from services.social import errors
from services.social.api import accounts, posts
from services.social.application import Clock, SocialApplication, utc_now
from services.social.connectors import Connectors
from services.social.inbox import Inbox
from services.social.inbox_api import router as inbox_router
from services.social.settings import SocialSettings
from services.social.webhooks import router as webhook_router
from shared.platform import logs
from shared.platform.auth import AuthSettings
from shared.platform.eventstore import persistence_env
from shared.platform.http import broker_checks, instrument, serve, service_checks
from shared.platform.kafka import KafkaSettings

DESCRIPTION = """Social media management for a community team:

- **accounts**: connect platform accounts (credentials encrypted at rest, never returned);
- **content calendar**: draft, schedule, edit and delete posts; the scheduler publishes them once;
- **webhooks**: platforms deliver comments, DMs, mentions and engagement metrics, HMAC-signed;
- **inbox**: sentiment per interaction, link authors to customers, assign, reply, close, escalate to support.

Every change is an event on `crm.social.v1` (see `/asyncapi.json`)."""


def create_app(
    settings: SocialSettings,
    auth: AuthSettings,
    kafka: KafkaSettings | None = None,
    *,
    connectors: Connectors | None = None,
    clock: Clock = utc_now,
) -> FastAPI:
    """The social API over the store in `settings`; readiness reports `kafka` (advisory) when given."""
    social = SocialApplication(
        env=persistence_env(settings.store), cipher=settings.cipher(), connectors=connectors, clock=clock
    )
    app = FastAPIOffline(title="CRM social service", version="1.0.0", description=DESCRIPTION)
    app.state.jwt_secret = auth.secret
    app.state.social = social
    app.state.inbox = Inbox(social)
    app.state.webhook_tolerance = settings.webhook_tolerance_seconds

    instrument(app, "social", service_checks(social.recorder), advisory=broker_checks(kafka))
    errors.install(app)
    for router in (accounts, posts, inbox_router, webhook_router):
        app.include_router(router)
    return app


def main() -> None:
    """Entry point: `python -m services.social.main`."""
    settings = SocialSettings()
    logs.configure("social", settings.log_level)
    app = create_app(settings, AuthSettings(), KafkaSettings())
    serve(app, settings.host, settings.port)


if __name__ == "__main__":
    main()
