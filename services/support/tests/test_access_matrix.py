"""Who may do what with a ticket, every role and relation against every action, as the support README states it.

"A support agent works a ticket if it is assigned to them or they are in its queue."
Analysts read tickets (masked). Admins do everything; other roles nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient

from services.support.desk import queue_id_for
from services.support.tests.conftest import ADMIN, ANALYST, TICKET, as_, ok
from services.support.tests.test_api import setup_queue

ASSIGNEE = as_("alice@example.com", "support_agent")  # the rotation's first member: gets the ticket
QUEUE_MATE = as_("bob@example.com", "support_agent")  # in the ticket's queue, not its assignee
OUTSIDER = as_("olga@example.com", "support_agent")  # an agent of another queue
SALES = as_("sam@example.com", "sales_rep")
NOBODY: dict[str, str] = {}

Action = Callable[[TestClient, str, dict[str, str]], Any]
ACTIONS: dict[str, tuple[Action, int]] = {
    "read": (lambda api, url, who: api.get(url, headers=who), 200),
    "reply": (lambda api, url, who: api.post(f"{url}/replies", json={"body": "在查"}, headers=who), 201),
    "note": (lambda api, url, who: api.post(f"{url}/notes", json={"body": "内部"}, headers=who), 201),
    "priority": (lambda api, url, who: api.put(f"{url}/priority", json={"priority": "P1"}, headers=who), 200),
    "status": (lambda api, url, who: api.post(f"{url}/status", json={"status": "open"}, headers=who), 200),
}

ALLOWED = {
    "assignee": {"read", "reply", "note", "priority", "status"},
    "queue mate": {"read", "reply", "note", "priority", "status"},
    "outsider": {"read"},
    "admin": {"read", "reply", "note", "priority", "status"},
    "analyst": {"read"},
    "sales rep": set(),
    "no token": set(),
}
CALLERS = {"assignee": ASSIGNEE, "queue mate": QUEUE_MATE, "outsider": OUTSIDER, "admin": ADMIN,
           "analyst": ANALYST, "sales rep": SALES, "no token": NOBODY}  # fmt: skip


def denial(caller: str) -> int:
    return {"no token": 401}.get(caller, 403)


@pytest.mark.parametrize("caller", list(CALLERS))
@pytest.mark.parametrize("action", list(ACTIONS))
def test_the_access_matrix_of_a_queued_ticket(api: TestClient, caller: str, action: str) -> None:
    setup_queue(api, "alice@example.com", "bob@example.com")
    setup_queue(api, "olga@example.com", category="billing")
    ticket = ok(api.post("/tickets", json=TICKET, headers=ASSIGNEE), 201)
    assert ticket["assignee"] == "alice@example.com"
    run, success = ACTIONS[action]
    answer = run(api, f"/tickets/{ticket['id']}", CALLERS[caller])
    expected = success if action in ALLOWED[caller] else denial(caller)
    assert answer.status_code == expected, f"{caller} {action}: {answer.status_code} {answer.text[:200]}"


def test_a_ticket_of_a_category_without_a_queue_waits_in_the_general_queue(api: TestClient) -> None:
    """Before, it had no queue at all: in no agent's lists, and any agent could take it."""
    setup_queue(api, "olga@example.com")
    ticket = ok(api.post("/tickets", json=TICKET | {"category": "billing"}, headers=ADMIN), 201)
    general = str(queue_id_for("*", 1))
    assert (ticket["queue_id"], ticket["assignee"]) == (general, None)
    [made] = [q for q in ok(api.get("/queues", headers=ADMIN)) if q["id"] == general]
    assert (made["name"], made["category"], made["tier"], made["members"]) == ("General", "*", 1, [])
    url = f"/tickets/{ticket['id']}"
    assert api.post(f"{url}/notes", json={"body": "我来处理"}, headers=OUTSIDER).status_code == 403
    ok(api.put(f"/queues/{general}/members/olga@example.com", json={"skills": [], "cap": 5}, headers=ADMIN))
    ok(api.put(f"{url}/assignee", json={"agent": None}, headers=ADMIN))  # back to the rotation: olga's now
    assert ok(api.get(url, headers=OUTSIDER))["assignee"] == "olga@example.com"
    ok(api.post(f"{url}/notes", json={"body": "我来处理"}, headers=OUTSIDER), 201)
    second = ok(api.post("/tickets", json=TICKET | {"category": "refunds"}, headers=ADMIN), 201)
    assert second["queue_id"] == general  # one general queue, made once
