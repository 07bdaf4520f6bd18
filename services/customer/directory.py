"""A query view of active customers, for search and duplicate detection.

It is built only by following the application's notification log (never by a second
write), and catches up before every query, so a read after a write in the same
process sees the write; each replica catches up from the shared store the same way.
It holds only active customers: erased or merged ones are dropped with their PII.
"""

from __future__ import annotations

import base64
import json
import threading
from dataclasses import dataclass, replace
from difflib import SequenceMatcher
from typing import Any
from uuid import UUID

from eventsourcing.application import Application
from eventsourcing.domain import DomainEventProtocol

from services.customer import contact
from services.customer.domain import CustomerNotFound, InvalidInput

BATCH_SIZE = 500
EMAIL_WEIGHT = 0.95
PHONE_WEIGHT = 0.9
NAME_WEIGHT = 0.8  # a name alone is weaker evidence than a shared contact point: names repeat


@dataclass(frozen=True)
class CustomerSummary:
    """What search returns about one active customer."""

    id: UUID
    name: str
    emails: tuple[str, ...]
    phones: tuple[str, ...]
    tags: tuple[str, ...]
    version: int


@dataclass(frozen=True)
class DuplicateCandidate:
    """Another customer that may be the same person, with the evidence for it."""

    id: UUID
    score: float
    reasons: tuple[str, ...]


class CustomerDirectory:
    """Active customers indexed by name, email and phone; thread-safe."""

    def __init__(self, app: Application[UUID], *, default_region: str | None = None) -> None:
        self.app = app
        self.default_region = default_region
        self._lock = threading.Lock()
        self._position = 0
        self._rows: dict[UUID, CustomerSummary] = {}
        self._keys: dict[UUID, str] = {}
        self._by_email: dict[str, set[UUID]] = {}
        self._by_phone: dict[str, set[UUID]] = {}

    @property
    def position(self) -> int:
        """The last notification id applied (0 before the first)."""
        return self._position

    def catch_up(self) -> int:
        """Apply every event stored since the last call; returns the new position."""
        with self._lock:
            return self._catch_up()

    def search(
        self,
        text: str | None = None,
        email: str | None = None,
        phone: str | None = None,
        tag: str | None = None,
        limit: int = 50,
        after: str | None = None,
    ) -> list[CustomerSummary]:
        """Active customers matching every given criterion, by name key then id, after the cursor `after`.

        `text` matches part of the name (any script, folded as names are) or part of an
        email address (case-insensitive): people search for "wang@" as often as "王".
        """
        if limit < 1:
            raise InvalidInput("limit must be at least 1")
        key = contact.name_key(text) if text else None
        mail = _email_key(text.strip()) if text and text.strip() else None
        wanted_tag = contact.normalise_label(tag, "tag") if tag else None
        start = decode_cursor(after) if after else None
        with self._lock:
            self._catch_up()
            rows = [
                row
                for row in self._candidates(email, phone)
                if (key is None or key in self._keys[row.id] or _in_an_email(mail, row))
                and (wanted_tag is None or wanted_tag in row.tags)
                and (start is None or (self._keys[row.id], str(row.id)) > start)
            ]
            rows.sort(key=lambda row: (self._keys[row.id], str(row.id)))
            return rows[:limit]

    def cursor(self, row: CustomerSummary) -> str:
        """The opaque cursor of the page after `row` (its place in the search order)."""
        with self._lock:
            place = [self._keys.get(row.id, contact.name_key(row.name)), str(row.id)]
        return base64.urlsafe_b64encode(json.dumps(place, ensure_ascii=False).encode()).decode().rstrip("=")

    def find_duplicates(self, customer_id: UUID, name_threshold: float = 0.85) -> list[DuplicateCandidate]:
        """Customers sharing an email or phone, or with a similar name, best first."""
        if not 0.0 < name_threshold <= 1.0:
            raise InvalidInput("name_threshold must be in (0, 1]")
        with self._lock:
            self._catch_up()
            me = self._rows.get(customer_id)
            if me is None:
                raise CustomerNotFound(customer_id)
            evidence = self._contact_evidence(me)
            for other, ratio in self._similar_names(me.id, name_threshold):
                evidence.setdefault(other, []).append((f"similar name {ratio:.2f}", NAME_WEIGHT * ratio))
        candidates = [_candidate(other, found) for other, found in evidence.items()]
        return sorted(candidates, key=lambda c: (-c.score, c.id))

    def _candidates(self, email: str | None, phone: str | None) -> list[CustomerSummary]:
        """The rows an exact email/phone narrows the search to, else every row."""
        ids: set[UUID] | None = None
        if email:
            ids = set(self._by_email.get(_email_key(contact.normalise_email(email)), ()))
        if phone:
            found = self._by_phone.get(contact.normalise_phone(phone, self.default_region), set())
            ids = found & ids if ids is not None else set(found)
        return list(self._rows.values()) if ids is None else [self._rows[i] for i in ids]

    def _contact_evidence(self, me: CustomerSummary) -> dict[UUID, list[tuple[str, float]]]:
        """Customers sharing one of `me`'s emails or phones (exact, after normalisation)."""
        evidence: dict[UUID, list[tuple[str, float]]] = {}
        for email in me.emails:
            for other in self._by_email.get(_email_key(email), set()) - {me.id}:
                evidence.setdefault(other, []).append((f"same email {email}", EMAIL_WEIGHT))
        for phone in me.phones:
            for other in self._by_phone.get(phone, set()) - {me.id}:
                evidence.setdefault(other, []).append((f"same phone {phone}", PHONE_WEIGHT))
        return evidence

    def _similar_names(self, customer_id: UUID, threshold: float) -> list[tuple[UUID, float]]:
        """Customers whose name key is at least `threshold` similar (difflib ratio)."""
        matcher = SequenceMatcher(autojunk=False)
        matcher.set_seq2(self._keys[customer_id])  # difflib caches details of seq2: keep it fixed
        similar = []
        for other, key in self._keys.items():
            if other == customer_id:
                continue
            matcher.set_seq1(key)
            # The cheap upper bounds prune most names before the exact ratio is computed.
            if matcher.real_quick_ratio() >= threshold and matcher.quick_ratio() >= threshold:
                ratio = matcher.ratio()
                if ratio >= threshold:
                    similar.append((other, ratio))
        return similar

    def _catch_up(self) -> int:
        """Apply new notifications in batches, from the last position on (lock held)."""
        while True:
            notifications = self.app.recorder.select_notifications(start=self._position + 1, limit=BATCH_SIZE)
            for notification in notifications:
                self._apply(self.app.mapper.to_domain_event(notification))
                self._position = notification.id
            if len(notifications) < BATCH_SIZE:
                return self._position

    def _apply(self, event: DomainEventProtocol[Any]) -> None:
        """Evolve the row of the event's customer (events are named by the aggregate)."""
        kind, state, customer_id = type(event).__name__, vars(event), event.originator_id
        if kind == "Registered":
            self._put(_registered(customer_id, state))
        elif kind in ("Erased", "MergedInto"):
            self._drop(customer_id)
        elif customer_id in self._rows:
            self._put(_evolve(self._rows[customer_id], kind, state))

    def _put(self, row: CustomerSummary) -> None:
        self._drop(row.id)
        self._rows[row.id] = row
        self._keys[row.id] = contact.name_key(row.name)
        for email in row.emails:
            self._by_email.setdefault(_email_key(email), set()).add(row.id)
        for phone in row.phones:
            self._by_phone.setdefault(phone, set()).add(row.id)

    def _drop(self, customer_id: UUID) -> None:
        row = self._rows.pop(customer_id, None)
        self._keys.pop(customer_id, None)
        if row is None:
            return
        for email in row.emails:
            _discard(self._by_email, _email_key(email), customer_id)
        for phone in row.phones:
            _discard(self._by_phone, phone, customer_id)


def _registered(customer_id: UUID, state: dict[str, Any]) -> CustomerSummary:
    return CustomerSummary(
        id=customer_id,
        name=state["name"],
        emails=tuple(state["emails"]),
        phones=tuple(state["phones"]),
        tags=tuple(state["tags"]),
        version=state["originator_version"],
    )


def _evolve(row: CustomerSummary, kind: str, state: dict[str, Any]) -> CustomerSummary:
    """The row after one event; events the directory does not show only move the version."""
    row = replace(row, version=state["originator_version"])
    if kind == "ProfileUpdated":
        name, tags = state.get("name"), state.get("tags")
        return replace(row, name=name or row.name, tags=row.tags if tags is None else tuple(tags))
    if kind in ("ContactPointAdded", "ContactPointRemoved"):
        return _with_point(row, state["kind"], state["value"], added=kind == "ContactPointAdded")
    if kind == "Absorbed":
        return replace(
            row,
            emails=(*row.emails, *state["emails"]),
            phones=(*row.phones, *state["phones"]),
            tags=tuple(sorted({*row.tags, *state["tags"]})),
        )
    return row


def _with_point(row: CustomerSummary, kind: str, value: str, *, added: bool) -> CustomerSummary:
    points = row.emails if kind == "email" else row.phones
    points = (*points, value) if added else tuple(p for p in points if p != value)
    return replace(row, emails=points) if kind == "email" else replace(row, phones=points)


def _candidate(customer_id: UUID, evidence: list[tuple[str, float]]) -> DuplicateCandidate:
    """Combine independent pieces of evidence: each one closes part of the remaining doubt."""
    doubt = 1.0
    for _, weight in evidence:
        doubt *= 1.0 - weight
    return DuplicateCandidate(
        id=customer_id, score=round(1.0 - doubt, 3), reasons=tuple(reason for reason, _ in evidence)
    )


def decode_cursor(cursor: str) -> tuple[str, str]:
    """The (name key, id) a cursor from `CustomerDirectory.cursor` stands for; `InvalidInput` if it is not one."""
    try:
        key, customer = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        return str(key), str(UUID(str(customer)))
    except (ValueError, TypeError) as exc:
        raise InvalidInput("after is not a cursor this search returned") from exc


def _in_an_email(part: str | None, row: CustomerSummary) -> bool:
    """Whether `part` (already an email key) is in one of the row's emails."""
    return part is not None and any(part in _email_key(email) for email in row.emails)


def _email_key(email: str) -> str:
    """Emails match case-insensitively: `Bob@x.com` and `bob@x.com` reach the same person."""
    return email.casefold()


def _discard(index: dict[str, set[UUID]], key: str, customer_id: UUID) -> None:
    ids = index.get(key)
    if ids is not None:
        ids.discard(customer_id)
        if not ids:
            del index[key]
