"""The survey link opens a form a customer fills in without JavaScript, in their language; JSON stays JSON."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from services.support.tests.conftest import ALICE, TICKET, ok
from services.support.tests.test_api import setup_queue

BROWSER = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}
FORM = {"Content-Type": "application/x-www-form-urlencoded"}


def survey_token(api: TestClient) -> tuple[str, str]:
    setup_queue(api, "alice@example.com")
    ticket = ok(api.post("/tickets", json=TICKET, headers=ALICE), 201)
    url = f"/tickets/{ticket['id']}/status"
    ok(api.post(url, json={"status": "open"}, headers=ALICE))
    token = ok(api.post(url, json={"status": "resolved"}, headers=ALICE))["survey_token"]
    return str(ticket["id"]), str(token)


def test_a_browser_gets_an_accessible_form_that_posts_the_answer(api: TestClient) -> None:
    ticket_id, token = survey_token(api)
    page = api.get(f"/surveys/{token}", headers=BROWSER | {"Accept-Language": "zh-CN,zh;q=0.9,en;q=0.5"})
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert '<html lang="zh">' in page.text
    assert "您对我们处理您的请求的方式满意吗" in page.text
    assert len(re.findall(r'name="csat"', page.text)) == 5
    assert len(re.findall(r'name="nps"', page.text)) == 11
    assert page.text.count("<legend>") == 2
    assert '<label for="comment">' in page.text
    assert "<script" not in page.text
    action = re.search(r'action="([^"]+)"', page.text)
    assert action is not None
    assert action.group(1) == f"/surveys/{token}/form"

    sent = api.post(action.group(1), content="csat=4&nps=9&comment=%E8%B0%A2%E8%B0%A2", headers=FORM)
    assert sent.status_code == 201, sent.text
    assert "Thank you" in sent.text
    survey = ok(api.get(f"/tickets/{ticket_id}", headers=ALICE))["survey"]
    assert (survey["csat"], survey["nps"], survey["comment"], survey["answered"]) == (4, 9, "谢谢", True)

    again = api.get(f"/surveys/{token}", headers=BROWSER)
    assert "already been answered" in again.text
    assert "<form" not in again.text
    twice = api.post(f"/surveys/{token}/form", content="csat=1", headers=FORM)
    assert twice.status_code == 409
    assert "text/html" in twice.headers["content-type"]


def test_a_bad_form_answer_is_a_page_saying_what_to_fix_and_records_nothing(api: TestClient) -> None:
    ticket_id, token = survey_token(api)
    for body in ("csat=9", "csat=five", "nps=3"):
        answer = api.post(f"/surveys/{token}/form", content=body, headers=FORM)
        assert answer.status_code == 422, body
        assert 'role="alert"' in answer.text
    for hostile in (b"csat=3&comment=%00", b"csat=3&comment=\xff"):  # refused by the input policy, as JSON would be
        assert api.post(f"/surveys/{token}/form", content=hostile, headers=FORM).status_code == 422
    assert ok(api.get(f"/tickets/{ticket_id}", headers=ALICE))["survey"]["answered"] is False
    forged = api.get(f"/surveys/{token[:-3]}xyz", headers=BROWSER)
    assert forged.status_code == 403
    assert "text/html" in forged.headers["content-type"]


def test_json_clients_still_get_json(api: TestClient) -> None:
    _, token = survey_token(api)
    assert ok(api.get(f"/surveys/{token}"))["answered"] is False
    assert api.get(f"/surveys/{token}", headers={"Accept": "application/json"}).json()["answered"] is False
