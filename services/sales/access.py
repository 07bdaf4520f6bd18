"""Who may see and change which records: reps their own, managers their team's, admin all.

Analysts read everything but change nothing; the integration role (other systems)
acts on any record, as admin does, because it has no team of its own.
"""

from __future__ import annotations

from uuid import UUID

from services.sales.domain import NotOwner
from services.sales.views import SalesViews
from shared.platform.auth import Principal

EVERYONE = ("admin", "analyst", "integration")


def visible_owners(views: SalesViews, user: Principal) -> set[str] | None:
    """Owners whose records `user` may see; None means every record."""
    if user.has_any(*EVERYONE):
        return None
    if "sales_manager" in user.roles:
        return views.team_members(user.subject)
    return {user.subject}


def can_see(views: SalesViews, user: Principal, owner: str | None) -> bool:
    """True if `user` may see a record owned by `owner`."""
    owners = visible_owners(views, user)
    return owners is None or owner in owners


def ensure_can_change(views: SalesViews, user: Principal, owner: str | None, record_id: UUID) -> None:
    """Raise `NotOwner` unless `user` may change a record owned by `owner`."""
    if user.has_any("admin", "integration"):
        return
    if user.roles <= {"analyst"} or not can_see(views, user, owner):
        raise NotOwner(user.subject, record_id)
