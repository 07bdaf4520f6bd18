"""The base class of every public event model."""

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

    customer_id: UUID = Field(description="The customer the event is about; the Kafka key.")

    @classmethod
    def schema_name(cls) -> str:
        """File name of the committed JSON Schema of this event."""
        return f"{cls.event_type}.json"
