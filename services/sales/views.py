"""The sales read model: leads, deals, quotes, orders and the team, for the list views.

Built only by following the application's notification log (never a second write),
catching up before every query, so a read after a write sees it; the position is kept
with the rows it produced. Erased people lose their name, email and phone here.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from eventsourcing.application import Application
from eventsourcing.domain import DomainEventProtocol

from services.sales import contact

BATCH_SIZE = 1000


@dataclass
class Row:
    """One record in a view: its id, owner, customer and the fields the lists show."""

    id: UUID
    kind: str
    version: int
    owner: str | None
    customer_id: UUID | None
    data: dict[str, Any] = field(default_factory=dict)


class SalesViews:
    """Every view of the service, indexed by owner and by customer; thread-safe."""

    def __init__(self, app: Application[UUID]) -> None:
        self.app = app
        self._lock = threading.RLock()
        self.position = 0
        self.rows: dict[UUID, Row] = {}
        self.kinds: dict[str, dict[UUID, Row]] = {}
        self.open_contacts: dict[str, UUID] = {}
        """Normalised email (case-folded) or E.164 phone of each open lead → the lead."""
        self.reps: dict[str, dict[str, Any]] = {}
        self.customer_emails: dict[UUID, list[str]] = {}
        self.by_customer: dict[UUID, set[UUID]] = {}
        self.external_ids: dict[str, UUID] = {}
        self.leads_captured = 0

    def catch_up(self) -> SalesViews:
        """Apply every event stored since the last call (call before each query)."""
        with self._lock:
            while True:
                notes = self.app.recorder.select_notifications(start=self.position + 1, limit=BATCH_SIZE)
                for note in notes:
                    self._apply(self.app.mapper.to_domain_event(note))
                    self.position = note.id
                if len(notes) < BATCH_SIZE:
                    return self

    def of_kind(self, kind: str) -> list[Row]:
        """Every row of one kind (lead, opportunity, quote, order)."""
        with self._lock:
            return list(self.kinds.get(kind, {}).values())

    def of_customer(self, customer_id: UUID, kind: str | None = None) -> list[Row]:
        """The rows about a customer."""
        with self._lock:
            rows = [self.rows[i] for i in self.by_customer.get(customer_id, ()) if i in self.rows]
        return [r for r in rows if kind is None or r.kind == kind]

    def open_lead_with(self, email: str | None, phone: str | None) -> tuple[UUID, str] | None:
        """An open lead sharing the normalised email or phone, and which one matched."""
        with self._lock:
            if email and contact.email_key(email) in self.open_contacts:
                return self.open_contacts[contact.email_key(email)], "email"
            if phone and phone in self.open_contacts:
                return self.open_contacts[phone], "phone"
        return None

    def _contacts(self, row: Row) -> list[str]:
        email, phone = row.data.get("email"), row.data.get("phone")
        return [k for k in (contact.email_key(email) if email else None, phone) if k]

    def team_members(self, manager: str) -> set[str]:
        """Subjects of the members of the teams `manager` manages (themselves included)."""
        with self._lock:
            teams = {r["team"] for s, r in self.reps.items() if s == manager and r["manager"]}
            return {s for s, r in self.reps.items() if r["team"] in teams} | {manager}

    def _apply(self, e: DomainEventProtocol[Any]) -> None:
        kind, state = type(e).__qualname__, vars(e)
        aggregate, _, name = kind.partition(".")
        handler = getattr(self, f"_{aggregate.lower()}", None)
        if handler is not None:
            handler(name, e.originator_id, e.originator_version, state, state["timestamp"])

    def _put(self, row: Row) -> None:
        self.rows[row.id] = row
        self.kinds.setdefault(row.kind, {})[row.id] = row
        if row.customer_id is not None:
            self.by_customer.setdefault(row.customer_id, set()).add(row.id)

    def _repoint(self, row: Row, customer_id: UUID) -> None:
        if row.customer_id is not None:
            self.by_customer.get(row.customer_id, set()).discard(row.id)
        row.customer_id = customer_id
        self.by_customer.setdefault(customer_id, set()).add(row.id)

    def _lead(self, name: str, lead_id: UUID, version: int, s: dict[str, Any], at: datetime) -> None:
        if name == "Captured":
            self.leads_captured += 1
            fields = ("name", "company", "email", "phone", "country", "source", "campaign_id", "external_id")
            data = {f: s[f] for f in fields} | {"status": "open", "score": 0, "reasons": [], "captured_at": at}
            data["captured_by"] = s.get("captured_by")
            self._put(Row(lead_id, "lead", version, None, None, data))
            for key in self._contacts(self.rows[lead_id]):
                self.open_contacts.setdefault(key, lead_id)
            if s["external_id"]:
                self.external_ids[f"lead:{s['external_id']}"] = lead_id
            return
        row = self.rows[lead_id]
        row.version = version
        if name in ("Disqualified", "Converted", "Erased"):
            for key in self._contacts(row):
                if self.open_contacts.get(key) == lead_id:
                    del self.open_contacts[key]
        if name == "Scored":
            row.data.update(score=s["score"], reasons=list(s["reasons"]))
        elif name == "Assigned":
            row.owner = s["owner"]
        elif name in ("Qualified", "Disqualified"):
            row.data["status"] = name.lower()
        elif name == "Converted":
            row.data.update(status="converted", opportunity_id=s["opportunity_id"])
            self._repoint(row, s["customer_id"])
        elif name == "Erased":
            row.data.update(name="", email=None, phone=None, erased=True)

    def _opportunity(self, name: str, opp_id: UUID, version: int, s: dict[str, Any], at: datetime) -> None:
        if name == "Opened":
            fields = ("name", "amount", "currency", "stage", "probability", "close_date", "campaign_id", "lead_id")
            data = {f: s[f] for f in fields} | {"status": "open"}
            self._put(Row(opp_id, "opportunity", version, s["owner"], s["customer_id"], data))
            return
        row = self.rows[opp_id]
        row.version = version
        d = row.data
        if name == "StageChanged":
            d.update(stage=s["to_stage"], probability=s["probability"])
        elif name == "Updated":
            for key in ("amount", "probability", "close_date"):
                d[key] = d[key] if s[key] is None else s[key]
            row.owner = s["owner"] or row.owner
        elif name == "Won":
            d.update(status="won", amount=s["amount"], probability=Decimal(1), closed_on=s["at"])
        elif name == "Lost":
            d.update(status="lost", probability=Decimal(0), closed_on=s["at"])
        elif name == "Reopened":
            d.update(status="open", stage=s["stage"], probability=s["probability"])
        elif name == "Repointed":
            self._repoint(row, s["customer_id"])

    def _quote(self, name: str, quote_id: UUID, version: int, s: dict[str, Any], at: datetime) -> None:
        if name == "Issued":
            data = {"opportunity_id": s["opportunity_id"], "currency": s["currency"], "revision": 1}
            data |= {"status": "draft", "total": s["total"], "valid_until": s["valid_until"]}
            self._put(Row(quote_id, "quote", version, s["owner"], s["customer_id"], data))
            return
        row = self.rows[quote_id]
        row.version = version
        if name == "Revised":
            row.data.update(revision=row.data["revision"] + 1, status="draft", total=s["total"])
            row.data["valid_until"] = s["valid_until"]
        elif name == "Repointed":
            self._repoint(row, s["customer_id"])
        else:
            row.data["status"] = {"Sent": "sent", "Accepted": "accepted", "Rejected": "rejected"}.get(name, "expired")

    def _order(self, name: str, order_id: UUID, version: int, s: dict[str, Any], at: datetime) -> None:
        if name == "Placed":
            data = {"currency": s["currency"], "total": s["total"], "placed_at": s["placed_at"], "source": s["source"]}
            data |= {"status": "paid" if s["paid_at"] else "placed", "refunded": Decimal(0)}
            data |= {"quote_id": s["quote_id"], "external_id": s["external_id"]}
            self._put(Row(order_id, "order", version, s["owner"], s["customer_id"], data))
            if s["external_id"]:
                self.external_ids[f"order:{s['external_id']}"] = order_id
            return
        row = self.rows[order_id]
        row.version = version
        if name == "Refunded":
            row.data["refunded"] += s["amount"]
            if row.data["refunded"] == row.data["total"]:
                row.data["status"] = "refunded"
        elif name == "Repointed":
            self._repoint(row, s["customer_id"])
        else:
            row.data["status"] = name.lower()

    def _product(self, name: str, product_id: UUID, version: int, s: dict[str, Any], at: datetime) -> None:
        data = {f: s[f] for f in ("sku", "name", "prices", "tax_rate", "active")}
        self._put(Row(product_id, "product", version, None, None, data))

    def _rep(self, name: str, rep_id: UUID, version: int, s: dict[str, Any], at: datetime) -> None:
        subject = s.get("subject") or next(k for k, r in self.reps.items() if r["id"] == rep_id)
        fields = ("name", "team", "territories", "manager", "active")
        self.reps[subject] = {f: s[f] for f in fields} | {"id": rep_id, "subject": subject, "version": version}

    def _customercontacts(self, name: str, customer_id: UUID, version: int, s: dict[str, Any], at: datetime) -> None:
        if name == "Forgotten":
            self.customer_emails.pop(customer_id, None)
            return
        known = self.customer_emails.setdefault(customer_id, [])
        known += [e for e in s["emails"] if e and e not in known]
