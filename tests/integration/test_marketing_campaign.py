"""Marketing end to end on the real servers: customers → segment → campaign over SMTP → tracking → consent → 360.

The SMTP server is the local sink (`deploy/local/smtp.sh`, `CRM_SMTP_*` in stack.env);
every test uses recipient addresses of its own, so tests never see each other's mail.
"""

from __future__ import annotations

import os
import re
import signal
import time
from email.message import EmailMessage
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

import httpx
import pytest

from crm.mailsink import read_maildir
from services.marketing.application import MarketingApplication
from tests.integration.platform import Platform, eventually

SECRET = "integration-tracking-secret-0123456789abcdef"


def maildir() -> Path:
    """Where the local SMTP sink writes; a missing sink is a failure, never a skip."""
    assert os.environ.get("CRM_SMTP_PORT"), "CRM_SMTP_HOST/PORT/MAILDIR missing: run deploy/local/up.sh"
    return Path(os.environ["CRM_SMTP_MAILDIR"])


STARTED = time.time() - 5  # the sink is shared by every run: read only what arrived since this module loaded


def mail_to(domain: str) -> list[EmailMessage]:
    """Every message in the sink for addresses at `domain` (each test has a domain of its own)."""
    return [m for m in read_maildir(maildir(), since=STARTED) if str(m["To"]).endswith("@" + domain)]


def start_marketing(platform: Platform) -> None:
    platform.start("marketing", CRM_MARKETING_TRACKING_SECRET=SECRET)
    platform.stack.env["CRM_MARKETING_PUBLIC_URL"] = platform.url("marketing")


def draft_and_schedule(platform: Platform, rules: dict[str, Any], html: str) -> str:
    marketer = platform.headers("marketer")
    url = platform.url("marketing")
    segment = httpx.post(f"{url}/segments", json={"name": "CN VIPs", "rules": rules}, headers=marketer)
    assert segment.status_code == 201, segment.text
    variants = [{"name": "A", "subject": "{{ customer.name }}，春季新品", "html": html}]
    body = {
        "name": "春季促销",
        "channel": "email",
        "segment_id": segment.json()["id"],
        "variants": variants,
        "fallbacks": {"name": "朋友"},
    }
    created = httpx.post(f"{url}/campaigns", json=body, headers=marketer)
    assert created.status_code == 201, created.text
    campaign_id: str = created.json()["id"]
    scheduled = httpx.post(f"{url}/campaigns/{campaign_id}/schedule", json={"expected_version": 1}, headers=marketer)
    assert scheduled.status_code == 200, scheduled.text
    return campaign_id


def register(platform: Platform, name: str, email: str, consent: bool) -> str:
    body = {
        "name": name,
        "emails": [email],
        "phones": ["+86 138 0000 0000"],
        "tags": ["vip"],
        "source": "web",
        "consent": {"email": consent},
    }
    response = httpx.post(f"{platform.url('customer')}/customers", json=body, headers=platform.headers("sales_rep"))
    assert response.status_code == 201, response.text
    customer_id: str = response.json()["id"]
    return customer_id


def test_a_campaign_reaches_exactly_the_consenting_segment_and_flows_back(platform: Platform) -> None:
    for name in ("customer", "customer-relay", "customer-consumers", "marketing-consumers"):
        platform.start(name)
    start_marketing(platform)
    for name in ("marketing-relay", "analytics-projector", "analytics"):
        platform.start(name)
    domain = f"{uuid4().hex[:10]}.example.cn"
    zhang = register(platform, "张伟", f"zhang@{domain}", consent=True)
    register(platform, "No Consent", f"nope@{domain}", consent=False)
    li = register(platform, "李娜", f"li@{domain}", consent=True)
    rules = {"conditions": [{"attribute": "country", "values": ["CN"]}, {"attribute": "tags", "values": ["vip"]}]}
    html = '<p>您好 {{ customer.name }}</p><a href="https://shop.example.com/spring">Shop</a>'
    campaign_id = draft_and_schedule(platform, rules, html)

    def preview() -> dict[str, Any] | None:
        found = httpx.get(f"{platform.url('marketing')}/segments", headers=platform.headers("analyst")).json()
        r = httpx.get(
            f"{platform.url('marketing')}/segments/{found[0]['id']}/preview", headers=platform.headers("analyst")
        ).json()
        return r if r["count"] == 3 else None

    eventually(preview, timeout=60, what="the audience has the three customers")
    platform.start("marketing-sender")
    mails = eventually(lambda: mail_to(domain) if len(mail_to(domain)) >= 2 else None, timeout=60, what="2 mails")
    assert sorted(str(m["To"]) for m in mails) == [f"li@{domain}", f"zhang@{domain}"]
    mine = next(m for m in mails if str(m["To"]) == f"zhang@{domain}")
    assert str(mine["Subject"]) == "张伟，春季新品"
    body = mine.get_body(("html",)).get_content()  # type: ignore[union-attr]
    assert "您好 张伟" in body

    click = re.search(r'href="([^"]+/t/click/[^"]+)"', body).group(1)  # type: ignore[union-attr]
    followed = httpx.get(click, follow_redirects=False)
    assert (followed.status_code, followed.headers["location"]) == (302, "https://shop.example.com/spring")
    assert httpx.get(click[:-3] + "AAA", follow_redirects=False).status_code == 404  # tampered: recorded nowhere
    unsubscribe = str(mine["List-Unsubscribe"]).strip("<>")
    assert httpx.post(unsubscribe).status_code == 200

    def consent_withdrawn() -> bool:
        r = httpx.get(f"{platform.url('customer')}/customers/{zhang}", headers=platform.headers("sales_rep"))
        return r.json()["consent"].get("email") is False

    eventually(consent_withdrawn, timeout=60, what="the customer service recorded the unsubscribe")

    def touched() -> dict[str, Any] | None:
        doc = platform.customer_360(zhang)
        touches = (doc or {}).get("marketing", {}).get("campaigns", {})
        return doc if campaign_id in touches.get("clicked", []) and touches.get("unsubscribed") else None

    doc = eventually(touched, timeout=60, what="campaign touches in the 360")
    assert doc["marketing"]["campaigns"]["sent"] == [campaign_id]
    other = eventually(lambda: platform.customer_360(li), timeout=30)
    assert (other.get("marketing") or {}).get("counts", {}).get("clicked", 0) == 0
    report = httpx.get(
        f"{platform.url('marketing')}/campaigns/{campaign_id}/report", headers=platform.headers("analyst")
    ).json()
    assert report["variants"]["A"]["sent"] == 2
    assert report["variants"]["A"]["clicked"] == 1


@pytest.mark.parametrize("store_backend", ["sqlite"])
def test_a_sender_killed_mid_campaign_sends_everyone_exactly_one_message(platform: Platform) -> None:
    start_marketing(platform)
    app = MarketingApplication(env=platform.store_env("marketing"))
    domain = f"{uuid4().hex[:10]}.example.com"
    total = 40
    for i in range(total):
        app.join(
            UUID(int=i + 1),
            name=f"客户{i}",
            emails=[f"c{i}@{domain}"],
            phones=[],
            source="web",
            tags=["vip"],
            consent={"email": True},
        )
    draft_and_schedule(
        platform, {"conditions": [{"attribute": "tags", "values": ["vip"]}]}, "<p>{{ customer.name }}</p>"
    )
    sender = platform.start("marketing-sender", CRM_MARKETING_EMAIL_RATE="10")
    eventually(lambda: len(mail_to(domain)) >= 8, timeout=60, what="the sender is mid-campaign")
    sender.kill(signal.SIGKILL)
    assert len(mail_to(domain)) < total
    platform.start("marketing-sender")
    eventually(lambda: len(mail_to(domain)) >= total, timeout=60, what="every recipient got their mail")
    recipients = [str(m["To"]) for m in mail_to(domain)]
    assert sorted(recipients) == sorted(f"c{i}@{domain}" for i in range(total))
