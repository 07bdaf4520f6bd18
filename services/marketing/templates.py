"""Personalised message templates: Jinja2 in a sandbox, HTML autoescaped, missing fields tolerated.

Templates come from marketers, so they run in `SandboxedEnvironment` (no access to
Python internals). A field a customer lacks renders as the campaign's fallback for it
(e.g. `{"name": "朋友"}`), else as empty text, never as an error mid-campaign.
"""

from __future__ import annotations

import functools
from typing import Any
from uuid import UUID

from jinja2 import ChainableUndefined, Template, TemplateError
from jinja2.sandbox import SandboxedEnvironment

from services.marketing.domain import InvalidInput
from services.marketing.rules import Member

CUSTOMER_FIELDS = ("name", "first_name", "email", "phone", "country", "source", "tags")
"""The variables under `customer.` a template may use."""

_HTML = SandboxedEnvironment(autoescape=True, undefined=ChainableUndefined)
_TEXT = SandboxedEnvironment(autoescape=False, undefined=ChainableUndefined)

SAMPLE = Member(
    id=UUID(int=0),
    name="张伟",
    emails=("zhang.wei@example.cn",),
    phones=("+8613812345678",),
    source="web",
    tags=("vip",),
    consent={"email": True},
    country="CN",
)


def customer_fields(member: Member, fallbacks: dict[str, str]) -> dict[str, Any]:
    """The `customer` variables of one member; empty ones take the campaign's fallback."""
    values: dict[str, Any] = {
        "name": member.name,
        "first_name": member.name.split()[0] if member.name.split() else "",
        "email": member.emails[0] if member.emails else "",
        "phone": member.phones[0] if member.phones else "",
        "country": member.country or "",
        "source": member.source,
        "tags": list(member.tags),
    }
    return {k: v if v else fallbacks.get(k, v) for k, v in values.items()}


@functools.lru_cache(maxsize=256)
def _compiled(template: str, html: bool) -> Template:
    """Compiling is most of the cost of rendering; a campaign renders the same few templates many times."""
    return (_HTML if html else _TEXT).from_string(template)


def render(template: str, context: dict[str, Any], *, html: bool) -> str:
    """Render a template with `context`; HTML templates escape every value."""
    try:
        return _compiled(template, html).render(context)
    except TemplateError as exc:
        raise InvalidInput(f"template cannot be rendered: {exc}") from None


def check(template: str, *, html: bool) -> None:
    """Refuse a template that does not parse or fails on a sample customer (422 before anything is stored)."""
    context = {
        "customer": customer_fields(SAMPLE, {}),
        "campaign": {"name": "sample"},
        "unsubscribe_url": "https://example.com/u",
    }
    render(template, context, html=html)
