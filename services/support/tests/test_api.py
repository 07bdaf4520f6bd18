"""The support API end to end in one process: a desk's day, roles, validation and concurrency."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr

from services.support.desk import queue_id_for
from services.support.main import create_app
from services.support.settings import SupportSettings
from services.support.tests.conftest import ADMIN, ALICE, ANALYST, BOB, CAROL, SECRET, TICKET, FakeClock, ok
from shared.platform.auth import AuthSettings


def setup_queue(api: TestClient, *agents: str, category: str = "delivery", tier: int = 1) -> str:
    queue = ok(
        api.post("/queues", json={"name": f"{category} {tier}", "category": category, "tier": tier}, headers=ADMIN), 201
    )
    for agent in agents:
        ok(api.put(f"/queues/{queue['id']}/members/{agent}", json={"skills": ["zh"], "cap": 5}, headers=ADMIN))
    return str(queue["id"])


def test_a_ticket_is_opened_assigned_answered_resolved_and_surveyed(api: TestClient, clock: FakeClock) -> None:
    setup_queue(api, "alice@example.com", "bob@example.com")
    ticket = ok(api.post("/tickets", json=TICKET, headers=ALICE), 201)
    assert ticket["assignee"] == "alice@example.com"
    url = f"/tickets/{ticket['id']}"
    clock.advance(minutes=30)
    ok(api.post(f"{url}/replies", json={"body": "我们正在查询。"}, headers=ALICE), 201)
    resolved = ok(api.post(f"{url}/status", json={"status": "resolved"}, headers=ALICE))
    assert resolved["status"] == "resolved"
    token = resolved["survey_token"]
    assert ok(api.get(f"/surveys/{token}"))["answered"] is False
    ok(api.post(f"/surveys/{token}", json={"csat": 5, "nps": 10, "comment": "谢谢！"}), 201)
    assert api.post(f"/surveys/{token}", json={"csat": 1}).status_code == 409, "a link answers once"
    full = ok(api.get(url, headers=ALICE))
    assert full["survey"]["csat"] == 5
    assert full["first_responded_at"] is not None
    assert [s["state"] for s in full["sla"]] == ["met", "met"]


def test_a_forged_or_tampered_survey_token_is_403_and_records_nothing(api: TestClient) -> None:
    setup_queue(api, "alice@example.com")
    ticket = ok(api.post("/tickets", json=TICKET, headers=ALICE), 201)
    ok(api.post(f"/tickets/{ticket['id']}/status", json={"status": "open"}, headers=ALICE))
    token = ok(api.post(f"/tickets/{ticket['id']}/status", json={"status": "resolved"}, headers=ALICE))["survey_token"]
    payload, signature = token.split(".")
    tampered = f"{payload[:-2]}xx.{signature}"
    assert api.post(f"/surveys/{tampered}", json={"csat": 5}).status_code == 403
    assert api.post(f"/surveys/{payload}.{'A' * len(signature)}", json={"csat": 5}).status_code == 403
    assert ok(api.get(f"/tickets/{ticket['id']}", headers=ALICE))["survey"]["answered"] is False


def test_an_expired_or_superseded_survey_link_is_410(api: TestClient, clock: FakeClock) -> None:
    setup_queue(api, "alice@example.com")
    ticket = ok(api.post("/tickets", json=TICKET, headers=ALICE), 201)
    url = f"/tickets/{ticket['id']}/status"
    ok(api.post(url, json={"status": "open"}, headers=ALICE))
    first = ok(api.post(url, json={"status": "resolved"}, headers=ALICE))["survey_token"]
    ok(api.post(url, json={"status": "open"}, headers=ALICE))
    second = ok(api.post(url, json={"status": "resolved"}, headers=ALICE))["survey_token"]
    assert api.post(f"/surveys/{first}", json={"csat": 3}).status_code == 410
    assert api.get(f"/surveys/{first}").status_code == 410
    clock.advance(days=15)
    assert api.post(f"/surveys/{second}", json={"csat": 3}).status_code == 410


def test_stale_version_is_rejected_with_409(api: TestClient) -> None:
    setup_queue(api, "alice@example.com")
    ticket = ok(api.post("/tickets", json=TICKET, headers=ALICE), 201)
    url = f"/tickets/{ticket['id']}"
    ok(api.put(f"{url}/priority", json={"priority": "P1", "expected_version": ticket["version"]}, headers=ALICE))
    stale = api.put(f"{url}/priority", json={"priority": "P4", "expected_version": ticket["version"]}, headers=ALICE)
    assert stale.status_code == 409
    assert ok(api.get(url, headers=ALICE))["priority"] == "P1"


def test_bad_input_is_422_and_writes_nothing(api: TestClient) -> None:
    setup_queue(api, "alice@example.com")
    before = api.app.state.support.recorder.max_notification_id()  # type: ignore[attr-defined]
    assert api.post("/tickets", json={**TICKET, "priority": "P9"}, headers=ALICE).status_code == 422
    assert api.post("/tickets", json={**TICKET, "subject": "   "}, headers=ALICE).status_code == 422
    assert api.post("/tickets", json={**TICKET, "category": "two words"}, headers=ALICE).status_code == 422
    assert api.post("/tickets", json={**TICKET, "nickname": "x"}, headers=ALICE).status_code == 422
    assert api.app.state.support.recorder.max_notification_id() == before  # type: ignore[attr-defined]


def test_an_illegal_transition_is_409(api: TestClient) -> None:
    setup_queue(api, "alice@example.com")
    ticket = ok(api.post("/tickets", json=TICKET, headers=ALICE), 201)
    response = api.post(f"/tickets/{ticket['id']}/status", json={"status": "closed"}, headers=ALICE)
    assert response.status_code == 409
    assert response.json()["error"] == "IllegalTransition"


def test_roles_analyst_reads_only_admin_configures_agents_work_their_queues(api: TestClient) -> None:
    setup_queue(api, "alice@example.com")
    ticket = ok(api.post("/tickets", json=TICKET, headers=ALICE), 201)
    assert ok(api.get(f"/tickets/{ticket['id']}", headers=ANALYST))["description"] == "***", "analysts see masked PII"
    assert api.post(f"/tickets/{ticket['id']}/replies", json={"body": "hi"}, headers=ANALYST).status_code == 403
    assert api.post("/queues", json={"name": "x", "category": "x"}, headers=ALICE).status_code == 403
    assert api.post(f"/tickets/{ticket['id']}/replies", json={"body": "hi"}, headers=CAROL).status_code == 403
    assert api.get("/tickets/mine", headers=ALICE).json()[0]["id"] == ticket["id"]
    assert [t["id"] for t in ok(api.get("/tickets/my-queues", headers=ALICE))] == [ticket["id"]]
    assert ok(api.get("/tickets/my-queues", headers=CAROL)) == []
    assert api.get("/tickets/mine").status_code == 401


def test_escalation_moves_the_ticket_to_the_next_tier_queue(api: TestClient) -> None:
    setup_queue(api, "alice@example.com")
    tier2 = setup_queue(api, "bob@example.com", tier=2)
    ticket = ok(api.post("/tickets", json=TICKET, headers=ALICE), 201)
    moved = ok(api.post(f"/tickets/{ticket['id']}/escalations", json={"reason": "carrier claim"}, headers=ALICE))
    assert (moved["queue_id"], moved["assignee"]) == (tier2, "bob@example.com")
    assert ok(api.get(f"/tickets/{ticket['id']}", headers=BOB))["tier"] == 2


def test_routing_falls_back_to_the_general_queue_at_the_tier_then_a_tier_lower(api: TestClient) -> None:
    """The rule in the README: category's queue at the tier, else `*` at the tier, else both one tier lower."""
    tier1 = setup_queue(api, "alice@example.com")
    ticket = ok(api.post("/tickets", json=TICKET | {"category": "Delivery"}, headers=ALICE), 201)
    assert ticket["queue_id"] == tier1  # categories match case-insensitively
    url = f"/tickets/{ticket['id']}/escalations"
    stays = ok(api.post(url, json={"reason": "no tier 2 anywhere"}, headers=ALICE))
    assert stays["queue_id"] == tier1  # nothing at tier 2: the tier below keeps it
    assert ok(api.get(f"/tickets/{ticket['id']}", headers=ALICE))["tier"] == 2
    general3 = setup_queue(api, "bob@example.com", category="*", tier=3)
    moved = ok(api.post(url, json={"reason": "legal"}, headers=ALICE))
    assert (moved["queue_id"], moved["assignee"]) == (general3, "bob@example.com")


def test_duplicates_merge_into_one_ticket(api: TestClient) -> None:
    setup_queue(api, "alice@example.com")
    first = ok(api.post("/tickets", json=TICKET, headers=ALICE), 201)
    second = ok(api.post("/tickets", json=TICKET, headers=ALICE), 201)
    ok(api.post(f"/tickets/{second['id']}/merge", json={"into": first["id"]}, headers=ALICE))
    duplicate = ok(api.get(f"/tickets/{second['id']}", headers=ALICE))
    assert (duplicate["status"], duplicate["merged_into"]) == ("closed", first["id"])
    assert ok(api.get(f"/tickets/{first['id']}", headers=ALICE))["merged_from"] == [second["id"]]
    assert api.post(f"/tickets/{second['id']}/replies", json={"body": "x"}, headers=ALICE).status_code == 409


def test_overdue_and_at_risk_views_follow_the_business_clock(api: TestClient, clock: FakeClock) -> None:
    ticket = ok(api.post("/tickets", json={**TICKET, "priority": "P1"}, headers=ALICE), 201)  # 60 min first response
    clock.advance(minutes=50)
    assert [t["id"] for t in ok(api.get("/tickets/at-risk", headers=ANALYST))] == [ticket["id"]]
    clock.advance(minutes=20)
    assert [t["id"] for t in ok(api.get("/tickets/overdue", headers=ANALYST))] == [ticket["id"]]
    assert ok(api.get("/tickets/at-risk", headers=ANALYST)) == []
    customer = ok(api.get(f"/customers/{TICKET['customer_id']}/tickets", headers=ANALYST))
    assert [t["id"] for t in customer] == [ticket["id"]]


def test_desk_configuration_is_admin_only_and_validated(api: TestClient) -> None:
    calendar = {"timezone": "Asia/Shanghai", "hours": {"mon": [["09:00", "18:00"]]}, "holidays": ["2026-10-01"]}
    desk = ok(api.put("/desk/calendar", json=calendar, headers=ADMIN))
    assert desk["hours"] == {"mon": [["09:00", "18:00"]]}
    assert api.put("/desk/calendar", json={**calendar, "timezone": "Mars/Olympus"}, headers=ADMIN).status_code == 422
    assert (
        api.put("/desk/calendar", json={**calendar, "hours": {"mon": [["18:00", "09:00"]]}}, headers=ADMIN).status_code
        == 422
    )
    assert api.put("/desk/calendar", json=calendar, headers=ALICE).status_code == 403
    stale = api.put("/desk/calendar", json={**calendar, "expected_version": 1}, headers=ADMIN)
    assert stale.status_code == 409


def test_feedback_is_linked_to_customer_and_ticket(api: TestClient) -> None:
    ticket = ok(api.post("/tickets", json=TICKET, headers=ALICE), 201)
    body = {"customer_id": TICKET["customer_id"], "ticket_id": ticket["id"], "kind": "praise", "text": "客服很耐心"}
    recorded = ok(api.post("/feedback", json=body, headers=ALICE), 201)
    assert ok(api.get(f"/feedback/{recorded['id']}", headers=ANALYST))["kind"] == "praise"
    other = {**body, "customer_id": "00000000-0000-4000-8000-000000000001"}
    assert api.post("/feedback", json=other, headers=ALICE).status_code == 422


def test_round_robin_spreads_tickets_honours_caps_and_waiting_tickets_get_an_agent_later(
    api: TestClient, clock: FakeClock
) -> None:
    queue = setup_queue(api, "alice@example.com", "bob@example.com")
    ok(api.put(f"/queues/{queue}/members/bob@example.com", json={"skills": ["zh"], "cap": 1}, headers=ADMIN))
    given = [ok(api.post("/tickets", json=TICKET, headers=ALICE), 201)["assignee"] for _ in range(4)]
    assert given == ["alice@example.com", "bob@example.com", "alice@example.com", "alice@example.com"]
    english_only = ok(api.post("/tickets", json={**TICKET, "skills": ["fr"]}, headers=ALICE), 201)
    assert english_only["assignee"] is None, "nobody speaks French: the ticket waits in the queue"
    waiting = ok(api.get(f"/queues/{queue}/tickets?unassigned=true", headers=ALICE))
    assert [t["id"] for t in waiting] == [english_only["id"]]


def test_handing_a_ticket_back_gives_it_to_someone_else_in_the_queue(api: TestClient) -> None:
    setup_queue(api, "alice@example.com", "bob@example.com")
    ticket = ok(api.post("/tickets", json=TICKET, headers=ALICE), 201)
    assert ticket["assignee"] == "alice@example.com"
    handed = ok(api.put(f"/tickets/{ticket['id']}/assignee", json={"agent": None}, headers=ALICE))
    assert handed["assignee"] == "bob@example.com"
    manual = ok(api.put(f"/tickets/{ticket['id']}/assignee", json={"agent": "alice@example.com"}, headers=BOB))
    assert manual["assignee"] == "alice@example.com"


def test_the_api_documents_every_route_with_a_summary_and_error_responses(api: TestClient) -> None:
    spec = ok(api.get("/openapi.json"))
    operations = [op for path in spec["paths"].values() for op in path.values()]
    assert len(operations) >= 30
    assert all(op.get("summary") for op in operations)
    assert "409" in spec["paths"]["/tickets/{ticket_id}/status"]["post"]["responses"]
    assert "security" not in spec["paths"]["/surveys/{token}"]["post"], "customers answer without logging in"


def test_the_api_refuses_to_start_without_a_survey_secret(tmp_path: Path) -> None:
    settings = SupportSettings(store={"sqlite_path": str(tmp_path / "s.sqlite")}, survey_secret=None)
    with pytest.raises(SystemExit, match="CRM_SUPPORT_SURVEY_SECRET"):
        create_app(settings, AuthSettings(secret=SecretStr(SECRET)))


def test_the_whole_desk_is_listed_filtered_and_paged_for_admins_and_analysts(api: TestClient, clock: FakeClock) -> None:
    """No endpoint listed all tickets: one with no queue (a social escalation's) was out of everyone's sight.

    Now such a ticket waits in the general queue; admins and analysts still see the whole desk here."""
    setup_queue(api, "alice@example.com")
    delivery = ok(api.post("/tickets", json=TICKET, headers=ALICE), 201)
    clock.advance(minutes=5)
    nowhere = ok(api.post("/tickets", json=TICKET | {"category": "billing", "priority": "P1"}, headers=ALICE), 201)
    assert nowhere["queue_id"] == str(queue_id_for("*", 1))  # no billing queue: the general one, made for it
    assert [t["id"] for t in ok(api.get("/tickets/mine", headers=ALICE))] == [delivery["id"]]

    def ids(query: str, who: dict[str, str] = ADMIN) -> list[str]:
        return [t["id"] for t in ok(api.get(f"/tickets{query}", headers=who))]

    assert ids("") == [delivery["id"], nowhere["id"]]  # oldest first
    assert ids("", ANALYST) == [delivery["id"], nowhere["id"]]
    assert ids("?unassigned=true&category=Billing") == [nowhere["id"]]
    assert ids("?priority=P2") == [delivery["id"]]
    assert ids("?status=new&status=open") == [delivery["id"], nowhere["id"]]
    assert ids("?status=closed") == []
    assert ids(f"?opened_from={clock().isoformat()}".replace("+", "%2B")) == [nowhere["id"]]
    first = api.get("/tickets?limit=1", headers=ADMIN)
    assert [t["id"] for t in first.json()] == [delivery["id"]]
    assert first.headers["x-total-count"] == "2"
    assert ids(f"?limit=1&after={first.headers['x-next-cursor']}") == [nowhere["id"]]
    assert api.get("/tickets", headers=ALICE).status_code == 403  # an agent works from their own lists
    assert api.get("/tickets?opened_from=0", headers=ADMIN).status_code == 422
