"""PII masking for callers who may analyse customers but not identify them (analysts)."""

from __future__ import annotations

from typing import Any


def mask_email(email: str) -> str:
    """`zhang.wei@example.cn` → `z***@example.cn`: the domain stays useful for analysis."""
    local, _, domain = email.partition("@")
    return f"{local[:1]}***@{domain}"


def mask_phone(phone: str) -> str:
    """`+8613812345678` → `+86*******5678`: country and last digits only."""
    return phone[:3] + "*" * max(len(phone) - 7, 0) + phone[-4:]


def mask_name(name: str | None) -> str | None:
    """Initial only: `张伟` → `张*`, `Ada Lovelace` → `A***`."""
    if not name:
        return name
    return name[0] + ("*" if len(name) <= 2 else "***")


def mask_address(address: Any) -> Any:
    """A structured address keeps only its country (what analysts segment by); anything else becomes `***`."""
    if address is None:
        return None
    if isinstance(address, dict):
        return {"lines": ["***"], "country": address.get("country")}
    return "***"


def mask_360(doc: dict[str, Any]) -> dict[str, Any]:
    """A copy of a 360 document with its direct identifiers masked."""
    masked = dict(doc)
    masked["name"] = mask_name(doc.get("name"))
    masked["emails"] = [mask_email(e) for e in doc.get("emails", [])]
    masked["phones"] = [mask_phone(p) for p in doc.get("phones", [])]
    masked["address"] = mask_address(doc.get("address"))
    masked["interactions"] = [i | {"summary": "***"} for i in doc.get("interactions", [])]
    return masked
