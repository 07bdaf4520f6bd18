"""Masking keeps what analysts segment by and hides what identifies a person."""

from __future__ import annotations

from shared.platform.masking import mask_360, mask_address


def test_a_structured_address_keeps_only_its_country() -> None:
    address = {"lines": ["北京市朝阳区建国路 88 号"], "city": "北京", "postal_code": "100022", "country": "CN"}
    assert mask_address(address) == {"lines": ["***"], "country": "CN"}
    assert mask_address("1 Main St") == "***"
    assert mask_address(None) is None


def test_a_360_is_masked_field_by_field() -> None:
    doc = {"name": "张伟", "emails": ["zhang.wei@example.cn"], "phones": ["+8613812345678"], "address": None}
    masked = mask_360(doc)
    assert masked["name"] == "张*"
    assert masked["emails"] == ["z***@example.cn"]
    assert masked["phones"] == ["+86*******5678"]
    assert masked["address"] is None
