"""Who may see and change which records: reps their own, managers their team's, admin all.

A rep who captured a lead keeps reading it after the assignment rules gave it to someone
else (`capturer_keeps_access`, on by default): they took the call and will be asked about
it. Reading only: changing it is for its owner and their manager.

Analysts read everything but change nothing; the integration role (other systems)
acts on any record, as admin does, because it has no team of its own.
"""

from __future__ import annotations

from uuid import UUID

from services.sales.domain import NotOwner
from services.sales.views import Row, SalesViews
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


def can_read(views: SalesViews, user: Principal, row: Row, capturer_keeps_access: bool = True) -> bool:
    """True if `user` may read `row`: `can_see` its owner's records, or captured it (a lead)."""
    if can_see(views, user, row.owner):
        return True
    return capturer_keeps_access and row.kind == "lead" and row.data.get("captured_by") == user.subject


def ensure_can_change(views: SalesViews, user: Principal, owner: str | None, record_id: UUID) -> None:
    """Raise `NotOwner` unless `user` may change a record owned by `owner`."""
    if user.has_any("admin", "integration"):
        return
    if user.roles <= {"analyst"} or not can_see(views, user, owner):
        raise NotOwner(user.subject, record_id)
