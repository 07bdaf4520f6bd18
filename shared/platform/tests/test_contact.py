"""The platform's contact-value rules, shared by customer, sales, marketing and analytics."""

from __future__ import annotations

import pytest

from shared.platform.contact import InvalidContactValue, country_of, normalise_email, normalise_phone


def test_emails_keep_the_local_part_and_lower_case_the_domain() -> None:
    assert normalise_email(" Li.Na@EXAMPLE.cn ") == "Li.Na@example.cn"
    with pytest.raises(InvalidContactValue, match="invalid email"):
        normalise_email("not-an-email")


def test_phones_become_e164_in_the_default_region_or_are_refused() -> None:
    assert normalise_phone("138 1234 5678", "CN") == "+8613812345678"
    with pytest.raises(InvalidContactValue, match="needs a country code"):
        normalise_phone("138 1234 5678", None)
    with pytest.raises(InvalidContactValue, match="no such number"):
        normalise_phone("+44 12", None)


def test_the_country_is_the_first_parsable_phone_s_region() -> None:
    assert country_of(["garbage", "+8613812345678", "+447911123456"]) == "CN"
    assert country_of([]) is None
