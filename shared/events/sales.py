"""Public events of the sales service on `crm.sales.v1` (sales automation).

This module starts with the events other services consume; the sales service adds
the rest of its stream here. `LeadConvertedV1` is choreography: the customer service
registers the customer it names, idempotently, under the id derived by
`customer_id_for_lead`.
"""

from __future__ import annotations

import uuid
from typing import Literal
from uuid import UUID

from pydantic import AwareDatetime, Field

from shared.events import topics
from shared.events.base import CustomerKeyedEvent, PublicEvent

LEAD_CUSTOMER_NAMESPACE = UUID("5b0f7c1e-2f7a-4d4e-9a53-6c1d0e7b9a01")
"""Namespace of the uuid5 that turns a lead id into the id of the customer it becomes."""


def customer_id_for_lead(lead_id: UUID) -> UUID:
    """The customer id a converted lead becomes: the same lead always gives the same customer."""
    return uuid.uuid5(LEAD_CUSTOMER_NAMESPACE, str(lead_id))


class SalesEvent(PublicEvent):
    """Base of the sales stream's events that are not about one customer (products, price book)."""

    topic = topics.SALES


class SalesCustomerEvent(CustomerKeyedEvent):
    """Base of the sales stream's events about one customer."""

    topic = topics.SALES


class LeadConvertedV1(SalesCustomerEvent):
    """A qualified lead became a customer (and usually an opportunity); the customer service registers them."""

    event_type = "crm.sales.lead_converted.v1"

    lead_id: UUID
    opportunity_id: UUID | None = Field(default=None, description="The opportunity opened on conversion, if any.")
    name: str = Field(description="Contact's full name in any script.")
    company: str | None = None
    emails: list[str] = Field(default_factory=list, description="Normalised email addresses.")
    phones: list[str] = Field(default_factory=list, description="Phone numbers in E.164.")
    country: str | None = Field(default=None, description="ISO 3166-1 alpha-2 country code.")
    source_channel: str = Field(description="Channel the lead was captured from: web_form, api, csv_import, campaign.")
    campaign_id: UUID | None = Field(default=None, description="The campaign that produced the lead (attribution).")
    consent: dict[Literal["email", "sms", "phone", "social"], bool] = Field(
        default_factory=dict, description="Marketing consent the lead gave on capture, per channel."
    )
    converted_by: str = Field(description="Subject of the user who converted the lead.")
    converted_at: AwareDatetime


EVENTS: tuple[type[PublicEvent], ...] = (LeadConvertedV1,)
