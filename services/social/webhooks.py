"""The public webhook endpoint platforms deliver to: authenticated by HMAC signature, not JWT.

See `signing.py` for the signature scheme. The body is checked against the signature
before it is parsed, and recorded in one atomic save with its delivery id, so a tampered,
stale or replayed delivery writes nothing.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from fastapi import APIRouter, Request, Response, status
from fastapi.concurrency import run_in_threadpool
from pydantic import ValidationError

from services.social import signing
from services.social.accounts import Account
from services.social.api import InboxDep, SocialDep
from services.social.domain import InvalidInput
from services.social.inbox import Inbound, Metrics
from services.social.webhook_schemas import InteractionItem, WebhookAccepted, WebhookDelivery

router = APIRouter(prefix="/webhooks", tags=["webhooks"])

_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {"application/json": {"schema": WebhookDelivery.model_json_schema()}},
    },
    "parameters": [
        {"name": signing.TIMESTAMP_HEADER, "in": "header", "required": True, "schema": {"type": "string"},
         "description": "Unix seconds when the delivery was signed."},
        {"name": signing.SIGNATURE_HEADER, "in": "header", "required": True, "schema": {"type": "string"},
         "description": "`sha256=` + hex HMAC-SHA256(webhook secret, timestamp + '.' + raw body)."},
    ],
}  # fmt: skip
RESPONSES: dict[int | str, dict[str, Any]] = {
    401: {"description": "Missing, invalid or stale signature"},
    404: {"description": "No such account, or metrics for a post we do not know"},
    409: {"description": "Replayed delivery id, or the account is disconnected"},
    422: {"description": "The body is not a valid delivery"},
}


@router.post(
    "/{account_id}",
    summary="Receive a signed delivery from a platform",
    responses=RESPONSES,
    openapi_extra=_BODY,
    status_code=status.HTTP_202_ACCEPTED,
)
async def receive_delivery(
    account_id: UUID, request: Request, response: Response, social: SocialDep, inbox: InboxDep
) -> WebhookAccepted:
    """A comment, DM, mention or metrics update; a redelivered interaction is stored once (200)."""
    raw = await request.body()
    account = await run_in_threadpool(social.load, Account, account_id)
    secret = await run_in_threadpool(social.webhook_secret, account)
    signing.verify(
        secret,
        timestamp=request.headers.get(signing.TIMESTAMP_HEADER),
        signature=request.headers.get(signing.SIGNATURE_HEADER),
        body=raw,
        now=social.clock(),
        tolerance=request.app.state.webhook_tolerance,
    )
    try:
        delivery = WebhookDelivery.model_validate_json(raw)
    except ValidationError as exc:
        raise InvalidInput(f"invalid delivery: {exc.errors(include_url=False, include_input=False)}") from None
    accepted = await run_in_threadpool(_store, inbox, account, delivery)
    if accepted.outcome == "duplicate":
        response.status_code = status.HTTP_200_OK
    return accepted


def _store(inbox: InboxDep, account: Account, delivery: WebhookDelivery) -> WebhookAccepted:
    item = delivery.event
    if isinstance(item, InteractionItem):
        inbound = Inbound(
            platform_interaction_id=item.id,
            kind=item.type,
            author_handle=item.author.handle,
            author_name=item.author.name,
            author_email=item.author.email,
            text=item.text,
            occurred_at=item.occurred_at,
            platform_post_id=item.post_id,
            permalink=item.permalink,
        )
        interaction_id, new = inbox.receive(account, delivery.delivery_id, inbound)
        return WebhookAccepted(outcome="stored" if new else "duplicate", interaction_id=interaction_id)
    metrics = Metrics(item.post_id, item.likes, item.comments, item.shares, item.measured_at)
    return WebhookAccepted(
        outcome="metrics_updated", post_id=inbox.receive_metrics(account, delivery.delivery_id, metrics)
    )
