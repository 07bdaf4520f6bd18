"""The customer service's outbox relay: customer domain events → `crm.customer.v1`.

Each private domain event is mapped to its public model by one explicit function, so
refactoring the aggregate never changes what subscribers receive.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from services.customer import address as postal
from services.customer.application import CustomerApplication
from services.customer.domain import Customer
from services.customer.settings import CustomerSettings
from shared.events import PublicEvent
from shared.events import customer as public
from shared.platform.eventstore import persistence_env
from shared.platform.outbox import Publish, Relay
from shared.platform.relaying import relay_over, run_relay


def _address(value: Any) -> public.PostalAddress | None:
    """The public form of a recorded address (a shredded one, whose key is gone, is none)."""
    recorded = postal.recorded(value)
    return public.PostalAddress.model_validate(recorded) if recorded else None


def _registered(e: Any) -> PublicEvent:
    return public.CustomerRegisteredV2(
        customer_id=e.originator_id,
        name=e.name,
        emails=e.emails,
        phones=e.phones,
        address=_address(e.address),
        source=e.source,
        tags=e.tags,
        consent=e.consent,
    )


def _profile_updated(e: Any) -> PublicEvent:
    changed: dict[str, Any] = {f: getattr(e, f) for f in ("name", "source", "tags") if getattr(e, f) is not None}
    if e.address is not None or e.address_cleared:
        changed["address"] = None if e.address_cleared else _address(e.address)  # null: the address was removed
    return public.CustomerProfileUpdatedV2(customer_id=e.originator_id, changed=sorted(changed), **changed)


def _contact_added(e: Any) -> PublicEvent:
    return public.CustomerContactPointAddedV1(customer_id=e.originator_id, kind=e.kind, value=e.value)


def _contact_removed(e: Any) -> PublicEvent:
    return public.CustomerContactPointRemovedV1(customer_id=e.originator_id, kind=e.kind, value=e.value)


def _interaction(e: Any) -> PublicEvent:
    return public.CustomerInteractionRecordedV1(
        customer_id=e.originator_id,
        interaction_id=e.interaction_id,
        kind=e.kind,
        summary=e.summary,
        occurred_at=e.occurred_at,
        recorded_by=e.recorded_by,
    )


def _consent(e: Any) -> PublicEvent:
    return public.CustomerConsentChangedV1(customer_id=e.originator_id, channel=e.channel, granted=e.granted)


def _merged(e: Any) -> PublicEvent:
    return public.CustomerMergedV1(customer_id=e.originator_id, survivor_id=e.survivor_id)


def _absorbed(e: Any) -> PublicEvent:
    return public.CustomerDuplicateAbsorbedV1(
        customer_id=e.originator_id, merged_id=e.merged_id, emails=e.emails, phones=e.phones, tags=e.tags
    )


def _erased(e: Any) -> PublicEvent:
    return public.CustomerErasedV1(customer_id=e.originator_id)


MAPPING: dict[type[Any], Callable[[Any], PublicEvent]] = {
    Customer.Registered: _registered,
    Customer.ProfileUpdated: _profile_updated,
    Customer.ContactPointAdded: _contact_added,
    Customer.ContactPointRemoved: _contact_removed,
    Customer.InteractionRecorded: _interaction,
    Customer.ConsentChanged: _consent,
    Customer.MergedInto: _merged,
    Customer.Absorbed: _absorbed,
    Customer.Erased: _erased,
}


def to_public(domain_event: Any) -> PublicEvent | None:
    """The public event of a customer domain event (every one of them is public)."""
    return MAPPING[type(domain_event)](domain_event)


def build_relay(settings: CustomerSettings, publish: Publish) -> Relay:
    """A relay over the customer store configured by `settings`."""
    return relay_over(
        "customer", CustomerApplication(env=persistence_env(settings.store)), to_public, settings, publish
    )


def main() -> None:
    """Entry point of the relay process: `python -m services.customer.relay`."""
    settings = CustomerSettings()
    run_relay("customer", settings, lambda publish: build_relay(settings, publish))


if __name__ == "__main__":
    main()
