"""HTTP routes of the inbox: list and read interactions, link them to customers, work them."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query

from services.social.api import InboxDep, SocialDep
from services.social.interactions import Interaction
from services.social.schemas import (
    ERROR_RESPONSES,
    AssignRequest,
    EscalateRequest,
    InteractionKind,
    InteractionPublic,
    InteractionStatus,
    LinkRequest,
    Ref,
    ReplyRequest,
    SentimentLabel,
)
from shared.platform.auth import Principal, require_roles
from shared.platform.paging import PageDep

Reader = Annotated[
    Principal, require_roles("support_agent", "marketer", "sales_rep", "sales_manager", "analyst", "integration")
]
Agent = Annotated[Principal, require_roles("support_agent", "marketer")]
ERRORS = {**ERROR_RESPONSES, 502: {"description": "The platform refused or did not answer the reply"}}

router = APIRouter(prefix="/interactions", tags=["inbox"], responses=ERROR_RESPONSES)


def _masked(user: Principal) -> bool:
    """Analysts see who wrote what only masked (they analyse, they do not identify)."""
    return "analyst" in user.roles and not user.has_any("support_agent", "marketer", "sales_rep", "sales_manager")


@router.get("", summary="The inbox")
def list_interactions(
    social: SocialDep,
    user: Reader,
    page: PageDep,
    account_id: UUID | None = None,
    customer_id: UUID | None = None,
    kind: InteractionKind | None = None,
    sentiment: SentimentLabel | None = None,
    interaction_status: Annotated[InteractionStatus | None, Query(alias="status")] = None,
    assignee: Annotated[str | None, Query(max_length=320)] = None,
    linked: Annotated[bool | None, Query(description="Only linked (true) or unlinked (false) ones.")] = None,
) -> list[InteractionPublic]:
    """Interactions, newest first, filtered by account, customer, kind, sentiment, status, assignee."""

    def keep(i: Interaction) -> bool:
        wanted = (
            (account_id, i.account_id),
            (customer_id, i.customer_id),
            (kind, i.kind),
            (sentiment, i.sentiment),
            (interaction_status, i.status),
            (assignee, i.assignee),
            (linked, i.customer_id is not None),
        )
        return all(want is None or want == have for want, have in wanted)

    rows = social.views.select(lambda v: v.interactions.values(), keep)
    newest = page.of(rows, key=lambda i: (i.occurred_at.timestamp(), str(i.id)), reverse=True)
    return [InteractionPublic.of(i, masked=_masked(user)) for i in newest]


@router.get("/{interaction_id}", summary="Read an interaction")
def read_interaction(interaction_id: UUID, social: SocialDep, user: Reader) -> InteractionPublic:
    """One interaction with its sentiment, link, assignee and state."""
    return InteractionPublic.of(social.load(Interaction, interaction_id), masked=_masked(user))


@router.put("/{interaction_id}/customer", summary="Link the author to a customer")
def link_interaction(interaction_id: UUID, body: LinkRequest, inbox: InboxDep, user: Agent) -> Ref:
    """Link by hand; the handle is remembered, so the author's other interactions link themselves."""
    version = inbox.link(interaction_id, body.customer_id, by=user.subject, expected_version=body.expected_version)
    return Ref(id=interaction_id, version=version)


@router.delete("/{interaction_id}/customer", summary="Unlink the author from their customer")
def unlink_interaction(
    interaction_id: UUID,
    inbox: InboxDep,
    user: Agent,
    expected_version: Annotated[int | None, Query(ge=1)] = None,
) -> Ref:
    """Undo a wrong link; the handle is no longer taken as that customer's."""
    version = inbox.unlink(interaction_id, by=user.subject, expected_version=expected_version)
    return Ref(id=interaction_id, version=version)


@router.post("/{interaction_id}/assign", summary="Assign to a team member")
def assign_interaction(interaction_id: UUID, body: AssignRequest, inbox: InboxDep, user: Agent) -> Ref:
    """Give the interaction to someone to work."""
    version = inbox.assign(
        interaction_id, assignee=body.assignee, by=user.subject, expected_version=body.expected_version
    )
    return Ref(id=interaction_id, version=version)


@router.post("/{interaction_id}/reply", summary="Reply through the platform", responses=ERRORS)
def reply_to_interaction(interaction_id: UUID, body: ReplyRequest, inbox: InboxDep, user: Agent) -> Ref:
    """Send a reply through the account's connector; recorded only once the platform confirmed it."""
    version = inbox.reply(interaction_id, body=body.text, by=user.subject, expected_version=body.expected_version)
    return Ref(id=interaction_id, version=version)


@router.post("/{interaction_id}/close", summary="Close")
def close_interaction(
    interaction_id: UUID,
    inbox: InboxDep,
    user: Agent,
    expected_version: Annotated[int | None, Query(ge=1)] = None,
) -> Ref:
    """Nothing more to do on this interaction."""
    version = inbox.close(interaction_id, by=user.subject, expected_version=expected_version)
    return Ref(id=interaction_id, version=version)


@router.post("/{interaction_id}/escalate", summary="Escalate to a support ticket")
def escalate_interaction(interaction_id: UUID, body: EscalateRequest, inbox: InboxDep, user: Agent) -> Ref:
    """Ask support to open a ticket (`crm.social.interaction_escalated.v1`); needs a linked customer."""
    version = inbox.escalate(
        interaction_id,
        priority=body.priority,
        reason=body.reason,
        by=user.subject,
        expected_version=body.expected_version,
    )
    return Ref(id=interaction_id, version=version)
