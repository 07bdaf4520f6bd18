"""Who may do what with a ticket, every role and relation against every action, as the support README states it.

"A support agent works a ticket if it is assigned to them, they are in its queue, or it
has no queue. Analysts read tickets (masked)." Admins do everything; other roles nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient

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


def test_any_agent_works_a_ticket_that_has_no_queue(api: TestClient) -> None:
    """A ticket no queue took (a category without one) must not be stranded: any agent may pick it up."""
    ticket = ok(api.post("/tickets", json=TICKET | {"category": "billing"}, headers=ADMIN), 201)
    assert ticket["queue_id"] is None
    url = f"/tickets/{ticket['id']}"
    ok(api.post(f"{url}/notes", json={"body": "我来处理"}, headers=OUTSIDER), 201)
    ok(api.put(f"{url}/assignee", json={"agent": "olga@example.com"}, headers=OUTSIDER))
    assert ok(api.get(url, headers=OUTSIDER))["assignee"] == "olga@example.com"
