"""A newcomer's first hour, scripted: the everyday paths that once failed or misled, on the real servers.

Each test is one sitting at a fresh platform, calling the HTTP APIs (and the `crm` CLI)
as a user would, with the roles a real team has: reps, a manager, agents, an analyst,
an admin. What each step once did wrong is said beside it.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any
from uuid import NAMESPACE_URL, uuid4, uuid5

import httpx
import pytest

from shared.events.topics import CONSUMER_GROUPS
from shared.platform.auth import issue_token
from tests.integration.platform import Platform, eventually
from tests.integration.test_marketing_campaign import draft_and_schedule, mail_to, register, start_marketing
from tests.integration.test_social_pipeline import connect_account, deliver, mention

pytestmark = pytest.mark.parametrize("store_backend", ["sqlite"])
ROOT = Path(__file__).resolve().parents[2]
SURVEY_SECRET = "walkthrough-survey-secret-0123456789abcdef"
BROWSER = {"Accept": "text/html,application/xhtml+xml", "Accept-Language": "zh-CN,zh;q=0.9"}


class As:
    """Calls to one service as one person (subject and roles), failing loudly on an unexpected status."""

    def __init__(self, platform: Platform, service: str, subject: str, *roles: str) -> None:
        self.base = platform.url(service)
        self.headers = {"Authorization": f"Bearer {issue_token(platform.jwt_secret, subject, list(roles))}"}

    def call(self, method: str, path: str, expect: int = 200, **kwargs: Any) -> httpx.Response:
        response = httpx.request(method, f"{self.base}{path}", headers=self.headers, timeout=60, **kwargs)
        assert response.status_code == expect, f"{method} {path}: {response.status_code} {response.text[:300]}"
        return response

    def get(self, path: str, expect: int = 200, **kwargs: Any) -> Any:
        return self.call("GET", path, expect, **kwargs).json()

    def post(self, path: str, body: Any = None, expect: int = 200) -> Any:
        response = self.call("POST", path, expect, json={} if body is None else body)
        return response.json() if response.content else None

    def put(self, path: str, body: Any, expect: int = 200) -> Any:
        return self.call("PUT", path, expect, json=body).json()


def test_directory_sales_and_money_in_two_currencies(platform: Platform) -> None:
    for name in ("customer-relay", "customer-consumers", "sales-relay", "sales-consumers", "analytics-projector"):
        platform.start(name)
    platform.start("customer", CRM_CUSTOMER_DEFAULT_PHONE_REGION="CN")
    for name in ("sales", "analytics"):
        platform.start(name)
    steward = As(platform, "customer", "steward@example.com", "admin")

    # Directory: national phone numbers as people write them (once refused), search by email and phone.
    address = {"lines": ["建国路88号"], "city": "北京市", "country": "CN"}
    wang = steward.post("/customers", {"name": "王芳", "emails": ["Wang.Fang@Example.cn"], "phones": ["138 0013 8000"],
                                       "address": address}, 201)  # fmt: skip
    again = steward.post("/customers", {"name": "王芳 (web)", "emails": ["WANG.FANG@example.cn", "fang@example.org"],
                                        "phones": ["+86 138-0013-8000"]}, 201)  # fmt: skip
    assert steward.get(f"/customers/{wang['id']}")["phones"] == ["+8613800138000"]
    by_email = steward.get("/customers", params={"q": "wang.fang@"})  # once: names only
    assert {c["id"] for c in by_email} == {wang["id"], again["id"]}
    assert {c["id"] for c in steward.get("/customers", params={"phone": "138 0013 8000"})} == {wang["id"], again["id"]}
    # A merge keeps one address per person, whatever the case it was typed in (once: wang…@ and WANG…@).
    steward.post(f"/customers/{wang['id']}/merge", {"merged_id": again["id"]})
    merged = steward.get(f"/customers/{wang['id']}")
    assert sorted(e.casefold() for e in merged["emails"]) == ["fang@example.org", "wang.fang@example.cn"]
    # Lists page past any size, by cursor and a `next` link (once: stopped at 200).
    for n in range(3):
        steward.post("/customers", {"name": f"客户{n}", "emails": [f"c{n}@example.cn"]}, 201)
    first = steward.call("GET", "/customers", params={"limit": 2})
    assert len(first.json()) == 2
    assert 'rel="next"' in first.headers["Link"]
    rest = steward.get("/customers", params={"limit": 2, "after": first.headers["X-Next-Cursor"]})
    assert not {c["id"] for c in rest} & {c["id"] for c in first.json()}

    # Sales: a rep captures a lead the rules give to a colleague covering China.
    admin = As(platform, "sales", "admin@example.com", "admin")
    admin.put("/reps/ana@example.com", {"name": "Ana", "team": "west", "territories": ["US"]})
    admin.put("/reps/bo@example.com", {"name": "薄", "team": "china-east", "territories": ["CN"]})
    admin.put("/reps/mia@example.com", {"name": "Mia", "team": "china-east", "manager": True})
    admin.put("/reps/cai@example.com", {"name": "蔡", "team": "china-east", "territories": ["HK"]})
    ana = As(platform, "sales", "ana@example.com", "sales_rep")
    mia = As(platform, "sales", "mia@example.com", "sales_manager")
    lead = ana.post("/leads", {"name": "李娜", "company": "深圳电子", "email": "li.na@shenzhen-elec.cn",
                               "phone": "139 1234 5678", "country": "CN", "source": "web_form"}, 201)  # fmt: skip
    assert (lead["owner"], lead["data"]["phone"]) == ("bo@example.com", "+8613912345678")
    assert ana.get(f"/leads/{lead['id']}")["id"] == lead["id"]  # once: 404 the moment it was assigned away
    ana.post(f"/leads/{lead['id']}/qualify", {}, 403)  # it is Bo's to work
    assert mia.get(f"/leads/{lead['id']}")["owner"] == "bo@example.com"  # once: the manager got 404 too
    # The manager hands it on, within her team, to active reps only (once: only an admin could).
    mia.post(f"/leads/{lead['id']}/assign", {"owner": "0"}, 422)  # no such rep: never an assignee
    mia.post(f"/leads/{lead['id']}/assign", {"owner": "ana@example.com"}, 422)  # not her team's
    mia.post(f"/leads/{lead['id']}/assign", {"owner": "cai@example.com"})
    cai = As(platform, "sales", "cai@example.com", "sales_rep")
    cai.post(f"/leads/{lead['id']}/qualify", {})
    converted = cai.post(f"/leads/{lead['id']}/convert", {})
    customer_id = converted["customer_id"]
    eventually(lambda: httpx.get(f"{steward.base}/customers/{customer_id}", headers=steward.headers).is_success,
               timeout=60, what="the converted lead registered as a customer")  # fmt: skip

    # Orders in yuan and dollars: each kept in its own currency (once: "revenue 0.00 USD" and no CNY row).
    product = admin.put(
        "/products/LIC-CN", {"name": "许可证", "prices": {"CNY": "117659.95", "USD": "100.00"}, "tax_rate": "0"}
    )
    line = [{"product_id": product["id"], "quantity": "1"}]
    order = {"customer_id": customer_id, "lines": line}
    yuan = cai.post("/orders", order | {"currency": "CNY", "external_id": "w-1"}, 201)
    cai.post(f"/orders/{yuan['id']}/pay", {})
    dollars = cai.post("/orders", order | {"currency": "USD", "external_id": "w-2"}, 201)
    cai.post(f"/orders/{dollars['id']}/pay", {})
    cai.post(f"/orders/{dollars['id']}/refund", {"amount": "40.00", "reason": "partial return"})
    doc = eventually(
        lambda: (d := platform.customer_360(customer_id)) and d.get("sales", {}).get("refunds") and d,
        timeout=60, what="both orders and the refund in the 360",
    )  # fmt: skip
    assert doc["sales"]["revenue"] == {"CNY": "117659.95", "USD": "100.00"}
    assert doc["sales"]["refunds"] == {"USD": "40.00"}

    analyst = As(platform, "analytics", "analyst@example.com", "analyst")
    eventually(lambda: len(analyst.get("/reports/revenue")["rows"]) >= 2, timeout=60, what="both currencies reported")
    rows = {r["currency"]: r for r in analyst.get("/reports/revenue")["rows"]}
    assert (rows["CNY"]["net_revenue"], rows["USD"]["net_revenue"]) == ("117659.95", "60.00")
    # Converted only with a rate an admin entered, and never silently.
    unconverted = analyst.get("/reports/revenue", params={"convert": "true"})
    assert [m["currency"] for m in unconverted["summary"]["missing_rates"]] == ["CNY"]
    As(platform, "analytics", "admin@example.com", "admin").put("/fx-rates/CNY/2000-01-01", {"rate": "0.1378"}, 201)
    converted_rows = {r["currency"]: r for r in analyst.get("/reports/revenue", params={"convert": "true"})["rows"]}
    assert converted_rows["CNY"]["converted_net_revenue"] == "16213.54"  # 117,659.95 x 0.1378
    assert converted_rows["USD"]["converted_net_revenue"] == "60.00"


def test_support_every_ticket_in_a_queue_and_a_survey_a_customer_can_fill_in(platform: Platform) -> None:
    for name in ("customer-relay", "social-relay", "support-consumers"):
        platform.start(name, CRM_SUPPORT_SURVEY_SECRET=SURVEY_SECRET)
    for name in ("customer", "social", "support"):
        platform.start(name)
    customer = As(platform, "customer", "steward@example.com", "admin")
    wang = customer.post("/customers", {"name": "王芳", "emails": ["wang.fang@example.cn"], "phones": [],
                                        "consent": {"social": True}}, 201)  # fmt: skip
    admin = As(platform, "support", "admin@example.com", "admin")
    delivery = admin.post("/queues", {"name": "配送", "category": "delivery", "tier": 1}, 201)
    admin.put(f"/queues/{delivery['id']}/members/li@example.com", {"skills": [], "cap": 10})
    li = As(platform, "support", "li@example.com", "support_agent")
    zhou = As(platform, "support", "zhou@example.com", "support_agent")

    # A ticket opened the usual way goes to its queue's agent, who works it; an agent of no queue may not.
    ticket = li.post("/tickets", {"customer_id": wang["id"], "channel": "email", "subject": "快递还没到",
                                  "description": "订单三天前发货，至今未到。", "category": "delivery",
                                  "priority": "P2"}, 201)  # fmt: skip
    assert (ticket["queue_id"], ticket["assignee"]) == (delivery["id"], "li@example.com")
    zhou.post(f"/tickets/{ticket['id']}/notes", {"body": "我看看"}, 403)
    li.post(f"/tickets/{ticket['id']}/replies", {"body": "我们正在联系快递公司。"}, 201)
    token = li.post(f"/tickets/{ticket['id']}/status", {"status": "resolved"})["survey_token"]

    # The survey link is a page with a form, in the customer's language, without JavaScript (once: JSON).
    page = httpx.get(f"{li.base}/surveys/{token}", headers=BROWSER)
    assert page.headers["content-type"].startswith("text/html")
    assert '<html lang="zh">' in page.text
    assert "<script" not in page.text
    action = re.search(r'action="([^"]+)"', page.text)
    assert action is not None
    sent = httpx.post(f"{li.base}{action.group(1)}", content="csat=5&nps=10&comment=%E8%B0%A2%E8%B0%A2",
                      headers={"Content-Type": "application/x-www-form-urlencoded"})  # fmt: skip
    assert sent.status_code == 201, sent.text
    assert li.get(f"/tickets/{ticket['id']}")["survey"]["csat"] == 5

    # A social escalation becomes a ticket that lands in a queue (once: no queue, no assignee, seen by no one).
    account = connect_account(platform)
    interaction_id = deliver(platform, account, mention("walk-1")).json()["interaction_id"]
    social = As(platform, "social", "li@example.com", "support_agent")
    social.put(f"/interactions/{interaction_id}/customer", {"customer_id": wang["id"]})
    social.post(f"/interactions/{interaction_id}/escalate", {"priority": "P1", "reason": "客户很生气"})
    escalated_id = str(uuid5(NAMESPACE_URL, f"crm:support:social-interaction:{interaction_id}"))

    def escalated() -> dict[str, Any] | None:
        response = httpx.get(f"{admin.base}/tickets/{escalated_id}", headers=admin.headers)
        return response.json() if response.status_code == 200 else None

    opened = eventually(escalated, timeout=60, what="the escalation's ticket")
    general = opened["queue_id"]
    assert general is not None
    [queue] = [q for q in admin.get("/queues") if q["id"] == general]
    assert (queue["category"], queue["tier"]) == ("*", 1)
    assert [t["id"] for t in admin.get("/tickets", params={"queue_id": general})] == [escalated_id]
    # Once an admin staffs the general queue, the waiting ticket is an agent's to work.
    admin.put(f"/queues/{general}/members/zhou@example.com", {"skills": [], "cap": 10})
    admin.put(f"/tickets/{escalated_id}/assignee", {"agent": None})
    assert zhou.get(f"/tickets/{escalated_id}")["assignee"] == "zhou@example.com"
    assert [t["id"] for t in zhou.get("/tickets/my-queues")] == [escalated_id]
    zhou.post(f"/tickets/{escalated_id}/replies", {"body": "很抱歉，我们马上处理。"}, 201)


def test_a_campaign_with_spend_and_an_unsubscribe_page_a_customer_can_use(platform: Platform) -> None:
    for name in ("customer", "customer-relay", "customer-consumers", "marketing-consumers", "marketing-relay"):
        platform.start(name)
    start_marketing(platform)
    domain = f"{uuid4().hex[:10]}.example.cn"
    customer_id = register(platform, "张伟", f"zhang@{domain}", consent=True)
    rules = {"conditions": [{"attribute": "tags", "values": ["vip"]}]}
    campaign_id = draft_and_schedule(platform, rules, "<p>您好 {{ customer.name }}</p>")
    marketer = As(platform, "marketing", "mk@example.com", "marketer")
    # Spend in yuan, with an id of the client's own (its format is in the OpenAPI: a UUID).
    spend_id = str(uuid4())
    spent = {"amount": "800.00", "currency": "CNY", "channel": "email", "spend_id": spend_id}
    marketer.post(f"/campaigns/{campaign_id}/spend", spent, 201)
    marketer.post(f"/campaigns/{campaign_id}/spend", spent | {"spend_id": "not-a-uuid"}, 422)
    assert marketer.get(f"/campaigns/{campaign_id}/report")["spend"] == {"CNY": "800.00"}

    platform.start("marketing-sender")
    [mail] = eventually(lambda: mail_to(domain), timeout=60, what="the campaign's mail")
    link = str(mail["List-Unsubscribe"]).strip("<>")
    # The link opens a page with one button, in the reader's language, changing nothing until pressed.
    page = httpx.get(link, headers=BROWSER)
    assert page.headers["content-type"].startswith("text/html")
    assert '<html lang="zh">' in page.text
    assert "<script" not in page.text
    assert "退订" in page.text
    action = re.search(r'<form method="post" action="([^"]+)"', page.text)
    assert action is not None
    done = httpx.post(f"{platform.url('marketing')}{action.group(1)}", headers=BROWSER)
    assert done.status_code == 200
    assert "您已退订" in done.text

    def consent_withdrawn() -> bool:
        found = httpx.get(f"{platform.url('customer')}/customers/{customer_id}", headers=platform.headers("admin"))
        return found.json()["consent"].get("email") is False

    eventually(consent_withdrawn, timeout=60, what="the customer service recorded the unsubscribe")


def test_the_cli_starts_and_lists_every_dead_letter_group(platform: Platform) -> None:
    """`crm dlq list` without a group was a usage error; now it lists every group (empty ones too)."""
    env = os.environ | {k: v for k, v in platform.stack.env.items() if k.startswith("CRM_")}
    done = subprocess.run(
        [str(Path(sys.executable).parent / "crm"), "dlq", "list"], env=env, capture_output=True, text=True, timeout=120,
        cwd=ROOT, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    for group in CONSUMER_GROUPS:
        assert f"{group}: 0" in done.stdout, done.stdout  # each group read, and empty
