"""HTTP routes for connected accounts and the content calendar.

Routes are plain `def`: the `eventsourcing` library is synchronous, so FastAPI runs them
in its thread pool. Domain errors are mapped to HTTP once, in `errors.py`.
"""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends, Query, Request, status

from services.social.accounts import Account
from services.social.application import SocialApplication
from services.social.inbox import Inbox
from services.social.posts import Post
from services.social.schemas import (
    ERROR_RESPONSES,
    AccountConnected,
    AccountCreate,
    AccountPublic,
    PostCreate,
    PostPublic,
    PostSchedule,
    PostStatus,
    PostUpdate,
    Ref,
    SecretRotation,
)
from shared.events.timestamps import IsoDateTime
from shared.platform.auth import Principal, require_roles
from shared.platform.paging import PageDep


def get_social(request: Request) -> SocialApplication:
    """The application the app was wired with."""
    social: SocialApplication = request.app.state.social
    return social


def get_inbox(request: Request) -> Inbox:
    """The inbox over the application."""
    inbox: Inbox = request.app.state.inbox
    return inbox


SocialDep = Annotated[SocialApplication, Depends(get_social)]
InboxDep = Annotated[Inbox, Depends(get_inbox)]
AccountAdmin = Annotated[Principal, require_roles("marketer")]
Reader = Annotated[Principal, require_roles("marketer", "support_agent", "analyst", "integration")]
Planner = Annotated[Principal, require_roles("marketer")]

accounts = APIRouter(prefix="/accounts", tags=["accounts"], responses=ERROR_RESPONSES)
posts = APIRouter(prefix="/posts", tags=["content calendar"], responses=ERROR_RESPONSES)


@accounts.post("", status_code=status.HTTP_201_CREATED, summary="Connect an account")
def connect_account(body: AccountCreate, social: SocialDep, user: AccountAdmin) -> AccountConnected:
    """Connect a platform account; the answer holds its webhook secret, shown only this once."""
    account, secret = social.connect_account(**body.model_dump())
    return AccountConnected(**AccountPublic.of(account).model_dump(), webhook_secret=secret)


@accounts.get("", summary="List connected accounts")
def list_accounts(social: SocialDep, user: Reader, page: PageDep) -> list[AccountPublic]:
    """Every account, connected or not, by platform and handle, a page at a time."""
    rows = social.views.select(lambda v: v.accounts.values(), lambda a: True)
    return [AccountPublic.of(a) for a in page.of(rows, key=lambda a: (a.platform, a.handle, str(a.id)))]


@accounts.get("/{account_id}", summary="Read an account")
def read_account(account_id: UUID, social: SocialDep, user: Reader) -> AccountPublic:
    """One account (never its credentials)."""
    return AccountPublic.of(social.load(Account, account_id))


@accounts.post("/{account_id}/secrets", summary="Rotate the webhook secret (and credentials)")
def rotate_secrets(account_id: UUID, body: SecretRotation, social: SocialDep, user: AccountAdmin) -> AccountConnected:
    """Issue a new webhook secret, shown this once; deliveries signed with the old one are refused from now on."""
    account, secret = social.rotate_webhook_secret(
        account_id, expected_version=body.expected_version, credentials=body.credentials
    )
    return AccountConnected(**AccountPublic.of(account).model_dump(), webhook_secret=secret)


@accounts.delete("/{account_id}", summary="Disconnect an account")
def disconnect_account(
    account_id: UUID,
    social: SocialDep,
    user: AccountAdmin,
    expected_version: Annotated[int | None, Query(ge=1)] = None,
) -> Ref:
    """Stop posting, replying and accepting webhooks through the account."""
    return Ref(id=account_id, version=social.disconnect_account(account_id, expected_version))


@posts.post("", status_code=status.HTTP_201_CREATED, summary="Draft (and optionally schedule) a post")
def draft_post(body: PostCreate, social: SocialDep, user: Planner) -> PostPublic:
    """Draft a post; with `scheduled_for` it is scheduled in the same step."""
    post = social.draft_post(body.account_id, text=body.text, created_by=user.subject, scheduled_for=body.scheduled_for)
    return PostPublic.of(post)


@posts.get("", summary="The content calendar")
def list_posts(
    social: SocialDep,
    user: Reader,
    page: PageDep,
    account_id: UUID | None = None,
    post_status: Annotated[PostStatus | None, Query(alias="status")] = None,
    scheduled_from: Annotated[IsoDateTime | None, Query(description="Only posts scheduled at or after.")] = None,
    scheduled_to: Annotated[IsoDateTime | None, Query(description="Only posts scheduled before.")] = None,
) -> list[PostPublic]:
    """Posts by scheduled time (drafts last), filtered by account, status and time window."""

    def keep(p: Post) -> bool:
        when = p.scheduled_for
        return (
            (account_id is None or p.account_id == account_id)
            and (post_status is None or p.status == post_status)
            and (scheduled_from is None or (when is not None and when >= scheduled_from))
            and (scheduled_to is None or (when is not None and when < scheduled_to))
        )

    rows = social.views.select(lambda v: v.posts.values(), keep)
    by_time = page.of(
        rows,
        key=lambda p: (int(p.scheduled_for is None), p.scheduled_for.timestamp() if p.scheduled_for else 0, str(p.id)),
    )
    return [PostPublic.of(p) for p in by_time]


@posts.get("/{post_id}", summary="Read a post, with its engagement")
def read_post(post_id: UUID, social: SocialDep, user: Reader) -> PostPublic:
    """One post: status, platform id, attempts and engagement (likes, comments, shares)."""
    return PostPublic.of(social.load(Post, post_id))


@posts.patch("/{post_id}", summary="Edit an unpublished post")
def edit_post(post_id: UUID, body: PostUpdate, social: SocialDep, user: Planner) -> Ref:
    """Change the text of a draft, scheduled or failed post."""
    return Ref(id=post_id, version=social.edit_post(post_id, expected_version=body.expected_version, text=body.text))


@posts.post("/{post_id}/schedule", summary="Schedule or reschedule a post")
def schedule_post(post_id: UUID, body: PostSchedule, social: SocialDep, user: Planner) -> Ref:
    """Set when the scheduler publishes it (a failed post can be scheduled again)."""
    version = social.schedule_post(post_id, expected_version=body.expected_version, scheduled_for=body.scheduled_for)
    return Ref(id=post_id, version=version)


@posts.delete("/{post_id}", summary="Delete a post")
def delete_post(
    post_id: UUID,
    social: SocialDep,
    user: Planner,
    expected_version: Annotated[int | None, Query(ge=1)] = None,
) -> Ref:
    """Take a post off the calendar (a published post stays on the platform)."""
    return Ref(id=post_id, version=social.delete_post(post_id, expected_version=expected_version))
