"""Lead commands: capture (duplicate check, score, assign), reassign, qualify, disqualify, convert."""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID, uuid4

from services.sales import access, assignment, contact, scoring
from services.sales.deal_commands import DealCommands, DealInput
from services.sales.domain import DuplicateLead, InvalidInput, StaleVersion
from services.sales.leads import Lead
from services.sales.opportunities import Opportunity
from services.sales.team import Rep, rep_id
from shared.events.sales import customer_id_for_lead
from shared.platform.auth import Principal
from shared.platform.concurrency import retries_race


@dataclass(frozen=True)
class LeadInput:
    """A lead as captured from a channel (validated by `Lead` rules in `capture_lead`)."""

    name: str
    company: str | None = None
    email: str | None = None
    phone: str | None = None
    country: str | None = None
    source: str = "api"
    campaign_id: UUID | None = None
    external_id: str | None = None
    consent: dict[str, bool] | None = None


class LeadCommands(DealCommands):
    """Leads from capture to conversion."""

    def new_lead(
        self, data: LeadInput, captured_by: Principal, lead_id: UUID | None = None, sequence: int | None = None
    ) -> Lead:
        """A captured, scored and assigned lead, not yet saved (imports save many at once)."""
        email = contact.email(data.email) if data.email else None
        # a national number is read in the lead's own country first, then in the service's default region
        region = contact.country(data.country) or self.settings.default_phone_region
        phone = contact.phone(data.phone, region) if data.phone else None
        if not email and not phone:
            raise InvalidInput("a lead needs an email or a phone")
        duplicate = self.views.catch_up().open_lead_with(email, phone)
        if duplicate is not None:
            raise DuplicateLead(*duplicate)
        lead = Lead(
            name=contact.text(data.name, "name") or "",
            company=contact.text(data.company, "company", required=False),
            email=email,
            phone=phone,
            country=contact.country(data.country),
            source=contact.channel(data.source),
            campaign_id=data.campaign_id,
            external_id=data.external_id,
            captured_by=captured_by.subject,
            consent=dict(data.consent or {}),
            id=lead_id or uuid4(),
        )
        self._score(lead)
        self._assign_new(lead, captured_by, self.views.leads_captured if sequence is None else sequence)
        return lead

    def capture_lead(self, data: LeadInput, captured_by: Principal) -> Lead:
        """Capture one lead: duplicate check on normalised email/phone, score, assign, save."""
        lead = self.new_lead(data, captured_by)
        self.store(lead)
        return lead

    def _score(self, lead: Lead) -> None:
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

    def _assign_new(self, lead: Lead, captured_by: Principal, sequence: int) -> None:
        views = self.views
        reps = [
            assignment.RepEntry(s, tuple(r["territories"]), r["active"] and not r["manager"])
            for s, r in views.reps.items()
        ]
        chosen = assignment.choose_owner(self.settings.assignment, reps, country=lead.country, sequence=sequence)
        if chosen is not None:
            lead.assign(*chosen)
        elif "sales_rep" in captured_by.roles:
            lead.assign(captured_by.subject, "capturer")

    @retries_race(StaleVersion)
    def reassign_lead(self, lead_id: UUID, owner: str, user: Principal, expected_version: int | None) -> Lead:
        """Give a lead to another (registered, active) rep."""
        lead = self.load_for(Lead, lead_id, user, expected_version)
        views = self.views.catch_up()
        rep = views.reps.get(owner)
        if rep is None or not rep["active"]:
            raise InvalidInput(f"{owner} is not an active rep of the team registry")
        if not access.can_see(views, user, owner):
            raise InvalidInput(f"{owner} is not in your team")
        lead.assign(owner, "manual")
        self.store(lead)
        return lead

    @retries_race(StaleVersion)
    def qualify_lead(self, lead_id: UUID, user: Principal, expected_version: int | None) -> Lead:
        """Mark a lead worth pursuing."""
        lead = self.load_for(Lead, lead_id, user, expected_version)
        lead.qualify(user.subject)
        self.store(lead)
        return lead

    @retries_race(StaleVersion)
    def disqualify_lead(self, lead_id: UUID, reason: str, user: Principal, expected_version: int | None) -> Lead:
        """Close a lead as not worth pursuing."""
        lead = self.load_for(Lead, lead_id, user, expected_version)
        lead.disqualify(contact.text(reason, "reason", 500) or "", user.subject)
        self.store(lead)
        return lead

    @retries_race(StaleVersion)
    def convert_lead(
        self, lead_id: UUID, deal: DealInput | None, user: Principal, expected_version: int | None
    ) -> tuple[Lead, Opportunity | None]:
        """Convert a qualified lead: its customer id is derived from the lead; the deal is saved with it."""
        lead = self.load_for(Lead, lead_id, user, expected_version)
        customer_id = customer_id_for_lead(lead.id)
        opportunity = None
        if deal is not None:
            opportunity = self.new_opportunity(
                customer_id, deal, owner=lead.owner or user.subject, campaign_id=lead.campaign_id, lead_id=lead.id
            )
        lead.convert(customer_id, opportunity.id if opportunity else None, user.subject, self.now())
        self.store(lead, *([opportunity] if opportunity else []))
        return lead, opportunity

    def register_rep(
        self, subject: str, *, name: str, team: str, territories: list[str], manager: bool, active: bool
    ) -> Rep:
        """Add or change a member of the team registry (idempotent)."""
        codes = [t.strip().upper() for t in territories if t.strip()]
        fields = {"name": contact.text(name, "name") or "", "team": contact.text(team, "team", 100) or ""}
        record_id = rep_id(subject)
        if self.exists(record_id):
            rep = self.load(Rep, record_id)
            rep.change(territories=codes, manager=manager, active=active, **fields)
        else:
            rep = Rep(subject=subject, territories=codes, manager=manager, active=active, id=record_id, **fields)
        self.store(rep)
        return rep
