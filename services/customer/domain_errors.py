"""The errors the customer aggregate's rules raise; the API maps each to an HTTP status in `errors.py`.

Value errors (`InvalidInput`, `InvalidContactPoint`) live with the value rules in
`contact`; `domain` re-exports all of them.
"""

from __future__ import annotations

from uuid import UUID

from services.customer.contact import CustomerError


class CustomerNotFound(CustomerError):
    """No customer has this id."""

    def __init__(self, customer_id: UUID) -> None:
        super().__init__(f"customer {customer_id} not found")
        self.customer_id = customer_id


class StaleVersion(CustomerError):
    """The caller decided on an older version than the stored one; reload and retry."""

    def __init__(self, expected: int, actual: int, customer_id: UUID | None = None) -> None:
        super().__init__(f"customer {customer_id} is at version {actual}, not {expected}")
        self.expected = expected
        self.actual = actual
        self.customer_id = customer_id


class CustomerErased(CustomerError):
    """The customer was erased; nothing more can be recorded about them."""

    def __init__(self, customer_id: UUID) -> None:
        super().__init__(f"customer {customer_id} was erased")
        self.customer_id = customer_id


class CustomerMerged(CustomerError):
    """The customer was merged into another; commands go to the survivor."""

    def __init__(self, customer_id: UUID, survivor_id: UUID) -> None:
        super().__init__(f"customer {customer_id} was merged into {survivor_id}")
        self.customer_id = customer_id
        self.survivor_id = survivor_id


class ContactPointNotFound(CustomerError):
    """The customer has no such email or phone."""

    def __init__(self, kind: str, value: str) -> None:
        super().__init__(f"customer has no {kind} {value}")
        self.kind = kind
        self.value = value


class DuplicateContactPoint(CustomerError):
    """The customer already has this email or phone."""

    def __init__(self, kind: str, value: str) -> None:
        super().__init__(f"customer already has {kind} {value}")
        self.kind = kind
        self.value = value


class CannotRemoveLastContactPoint(CustomerError):
    """A customer must stay reachable: at least one email or phone remains."""

    def __init__(self, kind: str, value: str) -> None:
        super().__init__(f"cannot remove {kind} {value}: it is the last contact point")
        self.kind = kind
        self.value = value


class CannotMergeIntoSelf(CustomerError):
    """A customer cannot be merged into itself."""

    def __init__(self, customer_id: UUID) -> None:
        super().__init__(f"cannot merge customer {customer_id} into itself")
        self.customer_id = customer_id
