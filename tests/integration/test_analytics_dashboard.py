"""The analysts' dashboard in a real headless Chromium, over data that went through the real projector.

Needs Debian's `chromium` (`apt-get install chromium`, at /usr/bin/chromium) and the
`playwright` Python package; no browser is downloaded. A screenshot of the loaded page
with a customer opened is saved under `.local/artifacts/` (its path is printed).
"""

from __future__ import annotations

import random
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from uuid import uuid4

import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

from services.analytics.projection import Item
from services.analytics.tests.builders import Stream, order
from shared.platform.auth import issue_token
from tests.integration.platform import Platform, eventually
from tests.integration.test_analytics_projection import send

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[2] / ".local" / "artifacts"
pytestmark = pytest.mark.parametrize("store_backend", ["sqlite"])


@contextmanager
def chromium() -> Iterator[Browser]:
    """Debian's Chromium, headless; a missing browser fails with what to install.

    Opened only after the data is seeded: Playwright's sync API runs an event loop in this thread.
    """
    if not CHROMIUM.exists() and shutil.which("chromium") is None:
        pytest.fail("the dashboard test needs Debian's chromium: `apt-get install -y chromium` (/usr/bin/chromium)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True)
        yield browser
        browser.close()


def history(seed: int = 7) -> list[Item]:
    """40 customers with orders over ~20 months (some still buying, some gone quiet) and open deals."""
    rng, s, items = random.Random(seed), Stream(), []
    for n in range(40):
        customer = str(uuid4())
        items.append(s.make("crm.customer.registered.v1", customer, customer, name=f"客户 {n}", emails=[]))
        first = rng.randint(-400, 150)
        last = rng.randint(first, 265) if n % 3 else rng.randint(first, first + 60)
        days = sorted({first, last, *(rng.randint(first, last) for _ in range(rng.randint(0, 6)))})
        items += [order(s, customer, f"{rng.randint(10, 300)}.00", day, "USD") for day in days]
        if n % 7 == 0:  # some buy in yuan too: shown in their own chart and tile, never added to dollars
            items.append(order(s, customer, f"{rng.randint(100, 3000)}.00", last, "CNY"))
        if n % 5 == 0:
            deal = str(uuid4())
            items.append(s.make("crm.sales.opportunity_opened.v1", deal, customer, opportunity_id=deal, currency="USD"))
    return items


def test_the_dashboard_loads_with_data_and_drills_down_to_a_customer_360(platform: Platform) -> None:
    platform.start("analytics")
    platform.start("analytics-projector")
    events = history()
    send(platform, events)
    timeline = platform.mongo["customer_timeline"]
    eventually(lambda: timeline.count_documents({}) == len(events), timeout=60, what="events projected")
    refit = platform.refit(timeout=120)
    assert refit["state"] == "succeeded", refit

    doc_of = {  # what the drill-down must show, read before the browser's event loop owns this thread
        d["_id"]: d["sales"]["order_count"] for d in platform.mongo["customer_360"].find({}, {"sales.order_count": 1})
    }
    with chromium() as browser:
        check_page(browser, platform, doc_of)


def check_page(browser: Browser, platform: Platform, orders_of: dict[str, int]) -> None:
    """The page loads with data in every panel, a churn row opens that customer's 360, a screenshot is kept."""
    token = issue_token(platform.jwt_secret, "analyst@example.com", ["analyst"])
    page: Page = browser.new_page(viewport={"width": 1400, "height": 1000})
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(f"{platform.url('analytics')}/dashboard?token={token}")
    expect(page.locator("body[data-loaded=true]")).to_have_count(1, timeout=30_000)
    assert "token=" not in page.url, "the token leaves the address bar"

    assert page.locator("#kpis .tile").count() >= 3
    assert page.locator("#revenue rect.bar").count() >= 10
    expect(page.locator("#revenue").get_by_text("net revenue in CNY")).to_have_count(1)
    expect(page.locator("#kpis .tile").filter(has_text="revenue CNY")).to_have_count(1)
    assert page.locator("#cohorts td.cell").count() >= 10
    assert page.locator("#lifecycle rect.bar").count() >= 2
    assert page.locator("#tiers rect.bar").count() >= 2
    assert page.locator("#pipeline rect.bar").count() >= 1
    assert page.locator("#clv rect.bar").count() >= 1
    rows = page.locator("#churn tbody tr")
    assert rows.count() == 10

    first = rows.first
    customer_id = first.get_attribute("data-customer-id")
    assert customer_id
    first.click()
    facts = page.locator("#customer-facts")
    expect(facts).to_contain_text(customer_id)
    expect(page.locator("#customer-timeline li").first).to_contain_text("crm.")
    expect(facts.locator("dd").nth(2)).to_have_text(str(orders_of[customer_id]))
    assert errors == [], errors

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    shot = ARTIFACTS / f"dashboard-{platform.kafka.topic_prefix.strip('.')}.png"
    page.screenshot(path=str(shot), full_page=True)
    print(f"dashboard screenshot: {shot}")
    assert shot.stat().st_size > 10_000
