"""The marketing read model: audience, suppressions, campaigns and message outcomes.

Built only by following the application's notification log (never by a second write)
and caught up before every query, like the customer directory: the API, the sender and
the consumers each hold one and see the same store. Erased or merged-away customers
are dropped from the audience with their personal data.
"""

from __future__ import annotations

import threading
from collections import Counter
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any
from uuid import UUID

from eventsourcing.application import Application
from eventsourcing.domain import DomainEventProtocol

from services.marketing.rules import Member
from shared.platform.contact import country_of

BATCH_SIZE = 500


@dataclass
class MessageRow:
    """Where one campaign message stands."""

    campaign_id: UUID
    customer_id: UUID
    channel: str
    variant: str
    outcome: str | None = None
    opened: bool = False
    clicks: int = 0
    unsubscribed: bool = False


@dataclass
class CampaignRow:
    """A campaign as lists and the sender's schedule need it."""

    id: UUID
    name: str
    channel: str
    segment_id: UUID
    status: str = "draft"
    send_at: datetime | None = None
    version: int = 1


@dataclass
class Eligibility:
    """Who of a segment may get a campaign on a channel, and why the others may not."""

    members: list[Member] = field(default_factory=list)
    excluded: Counter[str] = field(default_factory=Counter)


class MarketingView:
    """Thread-safe query state of the marketing store."""

    def __init__(self, app: Application[UUID]) -> None:
        self.app = app
        self._lock = threading.Lock()
        self._position = 0
        self.members: dict[UUID, Member] = {}
        self.suppressed: dict[UUID, set[str]] = {}
        self.messages: dict[UUID, MessageRow] = {}
        self.campaigns: dict[UUID, CampaignRow] = {}
        self.segments: dict[UUID, str] = {}

    def catch_up(self) -> int:
        """Apply every event stored since the last call; returns the position."""
        with self._lock:
            while True:
                notes = self.app.recorder.select_notifications(start=self._position + 1, limit=BATCH_SIZE)
                for note in notes:
                    self._apply(self.app.mapper.to_domain_event(note))
                    self._position = note.id
                if len(notes) < BATCH_SIZE:
                    return self._position

    def audience(self) -> list[Member]:
        """Every active customer, oldest first."""
        self.catch_up()
        with self._lock:
            return list(self.members.values())

    def eligible(self, members: list[Member], channel: str) -> Eligibility:
        """The members a `channel` message may go to: consent, no unsubscribe, an address."""
        self.catch_up()
        result = Eligibility()
        with self._lock:
            for member in members:
                reason = self._exclusion(member, channel)
                if reason:
                    result.excluded[reason] += 1
                else:
                    result.members.append(member)
        return result

    def member(self, customer_id: UUID) -> Member | None:
        """The active member, or None if unknown, erased or merged away."""
        self.catch_up()
        return self.members.get(customer_id)

    def reachable(self, customer_id: UUID, channel: str) -> Member | None:
        """The member if a `channel` message may go to them right now."""
        member = self.member(customer_id)
        with self._lock:
            return member if member is not None and not self._exclusion(member, channel) else None

    def due(self, now: datetime) -> list[UUID]:
        """Campaigns to send now: scheduled and due, or sending (a restart resumes them)."""
        self.catch_up()
        with self._lock:
            rows = [c for c in self.campaigns.values() if c.status == "sending"]
            rows += [c for c in self.campaigns.values() if c.status == "scheduled" and c.send_at and c.send_at <= now]
            return [c.id for c in rows]

    def campaign_rows(self) -> list[CampaignRow]:
        """Every campaign, oldest first."""
        self.catch_up()
        with self._lock:
            return [replace(row) for row in self.campaigns.values()]

    def segment_names(self) -> dict[UUID, str]:
        """Every segment's name by id, oldest first."""
        self.catch_up()
        with self._lock:
            return dict(self.segments)

    def report(self, campaign_id: UUID) -> dict[str, dict[str, int]]:
        """Per variant: messages sent, bounced, opened, clicked (unique and total), unsubscribed."""
        self.catch_up()
        report: dict[str, Counter[str]] = {}
        with self._lock:
            for row in (m for m in self.messages.values() if m.campaign_id == campaign_id):
                counts = report.setdefault(row.variant, Counter())
                counts.update(
                    sent=row.outcome == "sent",
                    bounced=row.outcome == "bounced",
                    opened=row.opened,
                    clicked=row.clicks > 0,
                    clicks=row.clicks,
                    unsubscribed=row.unsubscribed,
                )
        keys = ("sent", "bounced", "opened", "clicked", "clicks", "unsubscribed")
        return {variant: {k: int(c[k]) for k in keys} for variant, c in sorted(report.items())}

    def _exclusion(self, member: Member, channel: str) -> str | None:
        if channel in self.suppressed.get(member.id, set()):
            return "unsubscribed"
        if not member.consent.get(channel, False):
            return "no_consent"
        if not (member.emails if channel == "email" else member.phones):
            return "no_address"
        return None

    def _apply(self, event: DomainEventProtocol[Any]) -> None:
        kind, state, ident = type(event).__qualname__, vars(event), event.originator_id
        aggregate, _, name = kind.partition(".")
        if aggregate == "AudienceMember":
            self._member_event(name, state, ident)
        elif aggregate == "Message":
            self._message_event(name, state, ident)
        elif aggregate == "Campaign":
            self._campaign_event(name, state, ident)
        elif aggregate == "Segment":
            self.segments[ident] = state["name"]

    def _member_event(self, name: str, state: dict[str, Any], ident: UUID) -> None:
        if name == "Joined":
            phones = tuple(state["phones"])
            self.members[ident] = Member(
                ident,
                state["name"],
                tuple(state["emails"]),
                phones,
                state["source"],
                tuple(state["tags"]),
                dict(state["consent"]),
                country_of(phones),
            )
        elif name in ("Erased", "MergedInto"):
            self.members.pop(ident, None)
            if name == "MergedInto":  # an unsubscribe outlives a merge: the survivor stays suppressed
                self.suppressed.setdefault(state["survivor_id"], set()).update(self.suppressed.get(ident, set()))
        elif ident in self.members:
            self.members[ident] = _evolve(self.members[ident], name, state)

    def _message_event(self, name: str, state: dict[str, Any], ident: UUID) -> None:
        if name == "Prepared":
            self.messages[ident] = MessageRow(
                state["campaign_id"], state["customer_id"], state["channel"], state["variant"]
            )
            return
        row = self.messages[ident]
        if name in ("Sent", "Bounced"):
            row.outcome = name.lower()
        elif name == "Opened":
            row.opened = True
        elif name == "Clicked":
            row.clicks += 1
        elif name == "Unsubscribed":
            row.unsubscribed = True
            self.suppressed.setdefault(row.customer_id, set()).add(row.channel)

    def _campaign_event(self, name: str, state: dict[str, Any], ident: UUID) -> None:
        if name == "Drafted":
            self.campaigns[ident] = CampaignRow(ident, state["name"], state["channel"], state["segment_id"])
        row = self.campaigns[ident]
        row.version = state["originator_version"]
        changes = state.get("changes", {})
        row.name, row.segment_id = changes.get("name", row.name), changes.get("segment_id", row.segment_id)
        if name == "Scheduled":
            row.status, row.send_at = "scheduled", state["send_at"]
        elif name in ("SendingStarted", "Completed", "Cancelled"):
            row.status = {"SendingStarted": "sending", "Completed": "completed", "Cancelled": "cancelled"}[name]


def _evolve(member: Member, name: str, state: dict[str, Any]) -> Member:
    """The member after one audience event."""
    if name == "ProfileChanged":
        tags = state.get("tags")
        return replace(
            member,
            name=state.get("name") or member.name,
            source=state.get("source") or member.source,
            tags=member.tags if tags is None else tuple(tags),
        )
    if name in ("ContactPointAdded", "ContactPointRemoved"):
        points = member.emails if state["kind"] == "email" else member.phones
        value = state["value"]
        points = (*points, value) if name == "ContactPointAdded" else tuple(p for p in points if p != value)
        member = replace(member, emails=points) if state["kind"] == "email" else replace(member, phones=points)
        return replace(member, country=country_of(member.phones))
    if name == "ConsentChanged":
        return replace(member, consent={**member.consent, state["channel"]: state["granted"]})
    if name == "Absorbed":
        phones = (*member.phones, *state["phones"])
        return replace(
            member,
            emails=(*member.emails, *state["emails"]),
            phones=phones,
            tags=tuple(sorted({*member.tags, *state["tags"]})),
            country=country_of(phones),
        )
    return member
