"""Templates: sandboxed, HTML-escaped, tolerant of missing fields, any script."""

from __future__ import annotations

from uuid import uuid4

import pytest

from services.marketing import templates
from services.marketing.domain import InvalidInput
from services.marketing.rules import Member

ZHANG = Member(
    id=uuid4(),
    name="张伟",
    emails=("zhang.wei@example.cn",),
    phones=(),
    source="web",
    tags=(),
    consent={},
    country=None,
)
NAMELESS = Member(
    id=uuid4(), name="", emails=("x@example.com",), phones=(), source="web", tags=(), consent={}, country=None
)


def render(template: str, member: Member, fallbacks: dict[str, str] | None = None, *, html: bool = False) -> str:
    return templates.render(template, {"customer": templates.customer_fields(member, fallbacks or {})}, html=html)


def test_chinese_names_render() -> None:
    assert render("您好，{{ customer.name }}！", ZHANG) == "您好，张伟！"


def test_missing_field_takes_the_campaign_fallback() -> None:
    assert render("Hi {{ customer.name }}", NAMELESS, {"name": "朋友"}) == "Hi 朋友"


def test_missing_field_without_fallback_is_empty_or_default() -> None:
    assert render("[{{ customer.phone }}]", ZHANG) == "[]"
    assert render("{{ customer.nickname | default('friend') }}", ZHANG) == "friend"
    assert render("{{ customer.no.such.thing }}", ZHANG) == ""


def test_html_values_are_escaped() -> None:
    evil = Member(
        id=uuid4(),
        name="<script>alert(1)</script>",
        emails=(),
        phones=(),
        source="web",
        tags=(),
        consent={},
        country=None,
    )
    assert render("<p>{{ customer.name }}</p>", evil, html=True) == "<p>&lt;script&gt;alert(1)&lt;/script&gt;</p>"
    assert "<script>" in render("{{ customer.name }}", evil, html=False)


def test_sandbox_refuses_python_internals() -> None:
    with pytest.raises(InvalidInput):
        templates.check("{{ customer.__class__.__mro__[1].__subclasses__() }}", html=False)


def test_syntax_errors_are_refused() -> None:
    with pytest.raises(InvalidInput):
        templates.check("{{ customer.name ", html=True)
