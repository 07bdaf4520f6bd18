"""How the social service follows customers: their emails, merges and erasure.

Fed by the customer stream (`consumers.py`); every step is idempotent, since delivery is
at least once: emails are kept as sets, re-pointing to a survivor is a no-op the second
time, and erasing or shredding twice changes nothing.
"""

from __future__ import annotations

from uuid import UUID

from services.social.identities import Identity, KnownCustomer, known_customer_id
from services.social.inbox import AUTOMATIC, Inbox
from services.social.interactions import Interaction


class CustomerLifecycle:
    """Reactions to customer events, over the inbox and its application."""

    def __init__(self, inbox: Inbox) -> None:
        self.inbox = inbox
        self.app = inbox.app

    def emails_added(self, customer_id: UUID, emails: list[str]) -> None:
        """The customer has these emails (too): remember them and link waiting interactions."""
        known = self._known(customer_id)
        if known.erased:
            return
        wanted = [e.lower() for e in emails]
        known.change_emails(sorted({*known.emails, *wanted}))
        self.app.commit(known)
        for email in wanted:
            for interaction_id in self.app.views.unlinked_by_email(email):
                self.inbox.auto_link(interaction_id)

    def email_removed(self, customer_id: UUID, email: str) -> None:
        """The customer no longer has this email; links already made stay."""
        known = self._known(customer_id)
        known.change_emails([e for e in known.emails if e != email.lower()])
        self.app.commit(known)

    def merged(self, merged_id: UUID, survivor_id: UUID) -> None:
        """Re-point the merged customer's interactions and handles to the survivor."""
        known = self._known(merged_id)
        known.merge_into(survivor_id)
        self.app.commit(known)
        for interaction_id in self.app.views.interactions_of(merged_id):
            interaction = self.app.load(Interaction, interaction_id)
            if not interaction.erased and interaction.link(survivor_id, interaction.link_method or "manual", AUTOMATIC):
                self.app.commit(interaction)
        for ident_id in self.app.views.identities_of(merged_id):
            identity = self.app.load(Identity, ident_id)
            identity.repoint(survivor_id)
            self.app.commit(identity)

    def erased(self, customer_id: UUID) -> None:
        """Forget the customer: erase their interactions and handles, and shred their keys."""
        for interaction_id in self.app.views.interactions_of(customer_id):
            interaction = self.app.load(Interaction, interaction_id)
            interaction.erase()
            self.app.commit(interaction)
            self.app.pii_keys.shred(interaction_id)
        for ident_id in self.app.views.identities_of(customer_id):
            identity = self.app.load(Identity, ident_id)
            identity.forget()
            self.app.commit(identity)
            self.app.pii_keys.shred(ident_id)
        known = self._known(customer_id)
        known.erase()
        self.app.commit(known)
        self.app.pii_keys.shred(known.id)

    def _known(self, customer_id: UUID) -> KnownCustomer:
        found = self.app.find(KnownCustomer, known_customer_id(customer_id))
        return found or KnownCustomer(customer_id=customer_id, emails=[], id=known_customer_id(customer_id))
