"""Reactions to the customer and marketing streams: merges, erasures, contact emails, link clicks.

Every method is idempotent (delivery is at least once): re-pointing to the survivor
twice changes nothing, shredding a shredded key is a no-op, and a click is counted
once per lead by its id (`<message id>:<clicked at>`).

Click matching rule: a clicking customer's click counts for every *open* lead whose
normalised email is one of the emails the customer stream announced for that customer.
"""

from __future__ import annotations

from uuid import UUID

from services.sales import contact, scoring
from services.sales.leads import Lead
from services.sales.opportunities import Opportunity
from services.sales.orders import Order
from services.sales.quotes import Quote
from services.sales.store import SalesStore
from services.sales.team import CustomerContacts

KINDS: dict[str, type[Opportunity] | type[Quote] | type[Order]] = {
    "opportunity": Opportunity,
    "quote": Quote,
    "order": Order,
}


class LifecycleCommands(SalesStore):
    """How sales follows what happens to customers elsewhere."""

    def remember_emails(self, customer_id: UUID, emails: list[str]) -> None:
        """Keep the customer's emails (sealed with the customer's key) for click matching."""
        canonical = [contact.email_key(e) for e in emails if e]
        if not canonical:
            return
        if self.exists(customer_id):
            contacts = self.load(CustomerContacts, customer_id)
            contacts.add(canonical)
        else:
            contacts = CustomerContacts(emails=canonical, id=customer_id)
        self.store(contacts)

    def record_click(self, customer_id: UUID, click_id: str) -> list[UUID]:
        """Count a link click for the customer's open leads and rescore them; the leads it counted for."""
        views = self.views.catch_up()
        emails = set(views.customer_emails.get(customer_id, ()))
        matched = [
            row.id
            for row in views.of_kind("lead")
            if row.data["status"] in ("open", "qualified")
            and row.data.get("email")
            and contact.email_key(row.data["email"]) in emails
        ]
        counted = []
        for lead_id in matched:
            lead = self.load(Lead, lead_id)
            if lead.engage(click_id):
                points, reasons = scoring.score(
                    self.settings.scoring,
                    source=lead.source,
                    company=lead.company,
                    email=lead.email,
                    phone=lead.phone,
                    country=lead.country,
                    clicks=len(lead.clicks),
                )
                lead.rescore(points, reasons)
                self.store(lead)
                counted.append(lead_id)
        return counted

    def repoint_customer(self, merged_id: UUID, survivor_id: UUID) -> int:
        """Move every deal, quote and order of a merged customer to the survivor; how many moved."""
        moved = 0
        for row in self.views.catch_up().of_customer(merged_id):
            kind = KINDS.get(row.kind)
            if kind is None:
                continue
            record = self.load(kind, row.id)
            record.repoint(survivor_id)
            if record.pending_events:
                self.store(record)
                moved += 1
        return moved

    def forget_customer(self, customer_id: UUID) -> int:
        """Erase the customer's personal data here: their leads' and their own keys are shredded."""
        views = self.views.catch_up()
        emails = set(views.customer_emails.get(customer_id, ()))
        leads = {r.id for r in views.of_customer(customer_id, "lead")}
        leads |= {
            r.id for r in views.of_kind("lead") if r.data.get("email") and contact.email_key(r.data["email"]) in emails
        }
        for lead_id in sorted(leads):
            lead = self.load(Lead, lead_id)
            lead.erase()
            self.store(lead)
            self.pii_keys.shred(lead_id)
        if self.exists(customer_id):
            contacts = self.load(CustomerContacts, customer_id)
            contacts.forget()
            self.store(contacts)
        self.pii_keys.shred(customer_id)
        return len(leads)
