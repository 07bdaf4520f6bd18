"""Value rules: every contact point and name is stored in one canonical form."""

from __future__ import annotations

import pytest

from services.customer.contact import (
    InvalidContactPoint,
    InvalidInput,
    name_key,
    normalise_address,
    normalise_contact_point,
    normalise_email,
    normalise_name,
    normalise_phone,
    normalise_tags,
)


def test_email_domain_is_lower_cased_and_local_part_kept() -> None:
    assert normalise_email("  Bob.Smith@Example.COM ") == "Bob.Smith@example.com"


def test_unicode_email_local_part_is_kept() -> None:
    assert normalise_email("用户@例子.广告") == "用户@例子.广告"


@pytest.mark.parametrize("raw", ["not-an-email", "a@b", "two@@signs.com", ""])
def test_invalid_email_is_refused_with_readable_message(raw: str) -> None:
    with pytest.raises(InvalidContactPoint, match="invalid email address"):
        normalise_email(raw)


@pytest.mark.parametrize(
    ("raw", "region", "e164"),
    [
        ("138 0013 8000", "CN", "+8613800138000"),
        ("020 7946 0958", "GB", "+442079460958"),
        ("+86 138-0013-8000", None, "+8613800138000"),
        ("+44 (0)20 7946 0958", "CN", "+442079460958"),
    ],
)
def test_phone_is_normalised_to_e164(raw: str, region: str | None, e164: str) -> None:
    assert normalise_phone(raw, region) == e164


def test_phone_without_country_code_needs_a_default_region() -> None:
    with pytest.raises(InvalidContactPoint, match="needs a country code"):
        normalise_phone("13800138000", None)


@pytest.mark.parametrize("raw", ["12345", "call me", "+999 123"])
def test_invalid_phone_is_refused_with_readable_message(raw: str) -> None:
    with pytest.raises(InvalidContactPoint, match="invalid phone number"):
        normalise_phone(raw, "GB")


def test_unknown_contact_point_kind_is_refused() -> None:
    with pytest.raises(InvalidContactPoint, match="kind must be one of"):
        normalise_contact_point("fax", "+442079460958", None)


def test_name_is_nfkc_normalised_and_whitespace_collapsed() -> None:
    full_width_john = "\uff2a\uff4f\uff48\uff4e"
    assert normalise_name(f"  {full_width_john} \t  Smith\n") == "John Smith"


@pytest.mark.parametrize("name", ["", "   ", "x" * 201, "bad\x00name"])
def test_empty_overlong_or_control_character_name_is_refused(name: str) -> None:
    with pytest.raises(InvalidInput):
        normalise_name(name)


def test_chinese_name_is_kept_as_written() -> None:
    assert normalise_name(" 张伟 ") == "张伟"
    assert name_key("张伟") == "张伟"


def test_name_key_casefolds_latin_with_accents() -> None:
    assert name_key("ÉMILE  Zola") == name_key("émile zola") == "émile zola"
    assert name_key("Straße") == name_key("STRASSE")


def test_blank_address_means_none() -> None:
    assert normalise_address("   ") is None
    assert normalise_address(" 1 Main St,\n London ") == "1 Main St, London"


def test_tags_are_sorted_unique_and_lower_case() -> None:
    assert normalise_tags(["VIP", "vip ", "b2b", "  Key   Account "]) == ["b2b", "key account", "vip"]


def test_tags_given_as_one_string_are_refused() -> None:
    with pytest.raises(InvalidInput, match="list"):
        normalise_tags("vip")
