"""The base classes of every public event model."""

from __future__ import annotations

from typing import ClassVar
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field


class PublicEvent(BaseModel):
    """Data of one public event; `event_type` names it on the wire and in the registry.

    Unknown fields are ignored on parse so that adding an optional field to a version
    never breaks a subscriber still holding the older model.
    """

    model_config = ConfigDict(frozen=True, extra="ignore", ser_json_timedelta="iso8601")

    event_type: ClassVar[str]
    """CloudEvents `type`, e.g. `crm.customer.registered.v1`; the version is its last part."""
    topic: ClassVar[str]
    """Kafka topic the event is published to."""

    def subject_id(self) -> str | None:
        """The customer the event is about (CloudEvents `subject`), if it is about one.

        Events about a product, a campaign or an account have none; they are keyed by
        their aggregate instead.
        """
        return None

    @classmethod
    def schema_name(cls) -> str:
        """File name of the committed JSON Schema of this event."""
        return f"{cls.event_type}.json"


class CustomerKeyedEvent(PublicEvent):
    """An event about one customer: keyed by the customer, so their events stay in order."""

    customer_id: UUID = Field(description="The customer the event is about; the Kafka key.")

    def subject_id(self) -> str | None:
        """The customer id, as CloudEvents `subject`."""
        return str(self.customer_id)
