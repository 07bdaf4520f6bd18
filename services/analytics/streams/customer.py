"""How customer events (`crm.customer.v1`) fold into the 360: profile, contact points, consent, merges.

Registration and profile updates arrive as v2 only (the contract package upcasts v1
messages), so the 360's `address` is always the structured `PostalAddress` as a dict
(`lines`, `city`, `region`, `postal_code`, `country`) or None, whichever version was sent.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from shared.events import PublicEvent
from shared.events import customer as c

Document = dict[str, Any]


def _union(existing: list[str], more: list[str]) -> list[str]:
    return existing + [v for v in more if v not in existing]


def _address(address: c.PostalAddress | None) -> Document | None:
    return None if address is None else address.model_dump(mode="json")


def _registered(doc: Document, e: c.CustomerRegisteredV2) -> None:
    doc.update(
        name=e.name,
        emails=list(e.emails),
        phones=list(e.phones),
        address=_address(e.address),
        source=e.source,
        tags=sorted(e.tags),
        consent=dict(e.consent),
    )


def _profile(doc: Document, e: c.CustomerProfileUpdatedV2) -> None:
    for field in e.changed:
        value = getattr(e, field)
        doc[field] = sorted(value) if field == "tags" else _address(value) if field == "address" else value


def _contact_added(doc: Document, e: c.CustomerContactPointAddedV1) -> None:
    key = f"{e.kind}s"
    doc[key] = _union(doc[key], [e.value])


def _contact_removed(doc: Document, e: c.CustomerContactPointRemovedV1) -> None:
    key = f"{e.kind}s"
    doc[key] = [v for v in doc[key] if v != e.value]


def _interaction(doc: Document, e: c.CustomerInteractionRecordedV1) -> None:
    doc["interactions"].append(e.model_dump(mode="json", exclude={"customer_id"}))


def _consent(doc: Document, e: c.CustomerConsentChangedV1) -> None:
    doc["consent"][e.channel] = e.granted


def _merged(doc: Document, e: c.CustomerMergedV1) -> None:
    doc["merged_into"] = str(e.survivor_id)


def _absorbed(doc: Document, e: c.CustomerDuplicateAbsorbedV1) -> None:
    doc.update(
        emails=_union(doc["emails"], e.emails),
        phones=_union(doc["phones"], e.phones),
        tags=sorted(set(doc["tags"]) | set(e.tags)),
        merged_from=_union(doc["merged_from"], [str(e.merged_id)]),
    )


def _erased(doc: Document, e: c.CustomerErasedV1) -> None:
    doc["erased"] = True


def erase(doc: Document) -> None:
    """Forget the customer stream's personal data; keep only what analytics may count."""
    doc.update(name=None, emails=[], phones=[], address=None, interactions=[], tags=[])


def absorb(doc: Document, other: Document) -> None:
    """Fold a merged customer's recorded interactions into the survivor's.

    Contact points and tags arrive with the survivor's own `CustomerDuplicateAbsorbed`;
    the profile (name, address, consent) stays the survivor's.
    """
    known = {i["interaction_id"] for i in doc["interactions"]}
    doc["interactions"] += [i for i in other["interactions"] if i["interaction_id"] not in known]


FOLDS: dict[type[PublicEvent], Callable[[Document, Any], None]] = {
    c.CustomerRegisteredV2: _registered,
    c.CustomerProfileUpdatedV2: _profile,
    c.CustomerContactPointAddedV1: _contact_added,
    c.CustomerContactPointRemovedV1: _contact_removed,
    c.CustomerInteractionRecordedV1: _interaction,
    c.CustomerConsentChangedV1: _consent,
    c.CustomerMergedV1: _merged,
    c.CustomerDuplicateAbsorbedV1: _absorbed,
    c.CustomerErasedV1: _erased,
}
