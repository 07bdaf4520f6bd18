"""The support desk on the real servers: a social escalation becomes a ticket, SLA warning and breach are
emitted exactly once across scheduler restarts, the customer answers the survey, analytics shows it all.

The scheduler's "now" is fixed by `CRM_SUPPORT_SCHEDULER_NOW` (a test/ops setting), relative to the
ticket's real opening time, so no step depends on wall-clock luck.
"""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

import httpx
from aiokafka import AIOKafkaProducer

from services.support.application import SupportApplication
from shared.events import EventEnvelope
from shared.events.social import InteractionEscalatedV1
from tests.integration.platform import Platform, eventually

SURVEY_SECRET = "integration-survey-secret-0123456789abcdef"
AGENT = "it@example.com"  # the subject of `platform.headers(...)`


def _publish(platform: Platform, event: InteractionEscalatedV1) -> None:
    envelope = EventEnvelope.wrap(
        event, source="/crm/social", aggregate_id=event.interaction_id, aggregate_version=1, time=datetime.now(UTC)
    )

    async def send() -> None:
        producer = AIOKafkaProducer(
            bootstrap_servers=platform.kafka.bootstrap_servers, **platform.kafka.client_options()
        )
        await producer.start()
        try:
            headers = [(k, v.encode()) for k, v in envelope.headers().items()]
            await producer.send_and_wait(
                platform.kafka.topic(event.topic), envelope.body(), key=envelope.key, headers=headers
            )
        finally:
            await producer.stop()

    asyncio.run(send())


def _support_events(platform: Platform, event_type: str) -> list[dict[str, Any]]:
    return [
        json.loads(r.value or b"{}")
        for r in platform.records("crm.support.v1")
        if dict(r.headers).get("ce_type") == event_type.encode()
    ]


def _ticks(log: Path) -> int:
    return log.read_text(errors="replace").count("scheduler tick done") if log.exists() else 0


def _await_ticks(log: Path, count: int) -> None:
    eventually(lambda: _ticks(log) >= count, what=f"{count} scheduler ticks in {log}")


def _configure_desk(platform: Platform, admin: dict[str, str]) -> None:
    url = platform.url("support")
    every_day = {day: [["00:00", "24:00"]] for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}
    calendar = {"timezone": "Asia/Shanghai", "hours": every_day, "holidays": []}
    assert httpx.put(f"{url}/desk/calendar", json=calendar, headers=admin).status_code == 200
    policy = {"first_response_minutes": 2, "resolution_minutes": 60}
    policies = {"policies": dict.fromkeys(("P1", "P2", "P3", "P4"), policy), "warn_fraction": 0.5}
    assert httpx.put(f"{url}/desk/sla-policies", json=policies, headers=admin).status_code == 200
    queue = httpx.post(f"{url}/queues", json={"name": "社交", "category": "social"}, headers=admin).json()
    member = httpx.put(f"{url}/queues/{queue['id']}/members/{AGENT}", json={"cap": 5}, headers=admin)
    assert member.status_code == 200, member.text


def test_escalated_ticket_sla_once_across_restarts_survey_and_360(platform: Platform) -> None:
    platform.start("support", CRM_SUPPORT_SURVEY_SECRET=SURVEY_SECRET)
    for name in ("support-relay", "support-consumers", "analytics-projector", "analytics"):
        platform.start(name)
    admin, agent = platform.headers("admin"), platform.headers("support_agent")
    _configure_desk(platform, admin)
    customer_id = uuid4()
    escalation = InteractionEscalatedV1(
        customer_id=customer_id,
        interaction_id=uuid4(),
        account_id=uuid4(),
        platform="weibo",
        kind="mention",
        author_handle="@wang_fang",
        text="客服太慢了，订单还没到！",
        sentiment="negative",
        priority="P2",
        reason="late delivery complaint",
        escalated_by="community@example.com",
        escalated_at=datetime.now(UTC),
    )
    _publish(platform, escalation)
    _publish(platform, escalation)  # redelivery opens nothing new
    url = platform.url("support")

    def tickets() -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = httpx.get(f"{url}/customers/{customer_id}/tickets", headers=agent).json()
        return found

    listed = eventually(tickets, what="the escalation's ticket")
    assert len(listed) == 1
    assert (listed[0]["channel"], listed[0]["priority"], listed[0]["assignee"]) == ("social", "P2", AGENT)
    ticket_id, opened_at = listed[0]["id"], datetime.fromisoformat(listed[0]["opened_at"])

    # 90 s into a 2 min first-response target (warning at 50%): a warning, no breach; twice, across a restart.
    at_warning = (opened_at + timedelta(seconds=90)).isoformat()
    for _ in range(2):
        before = _ticks(platform.stack.log_dir / "support-scheduler.log")
        scheduler = platform.start(
            "support-scheduler",
            CRM_SUPPORT_SCHEDULER_NOW=at_warning,
            CRM_SUPPORT_SCHEDULER_INTERVAL_SECONDS="0.2",
            CRM_SUPPORT_LOG_LEVEL="DEBUG",
        )
        _await_ticks(scheduler.log, before + 3)
        scheduler.kill()
    eventually(lambda: _support_events(platform, "crm.support.sla_warned.v1"), what="warning on Kafka")

    # 150 s in: the breach, once, again across a restart; the warning is not repeated.
    at_breach = (opened_at + timedelta(seconds=150)).isoformat()
    for _ in range(2):
        before = _ticks(platform.stack.log_dir / "support-scheduler.log")
        scheduler = platform.start("support-scheduler", CRM_SUPPORT_SCHEDULER_NOW=at_breach)
        _await_ticks(scheduler.log, before + 3)
        scheduler.kill()
    eventually(lambda: _support_events(platform, "crm.support.sla_breached.v1"), what="breach on Kafka")
    warnings = _support_events(platform, "crm.support.sla_warned.v1")
    breaches = _support_events(platform, "crm.support.sla_breached.v1")
    assert [(w["ticket_id"], w["target"]) for w in warnings] == [(ticket_id, "first_response")]
    assert [(b["ticket_id"], b["target"]) for b in breaches] == [(ticket_id, "first_response")]
    with SupportApplication(env=platform.store_env("support")) as store:
        assert store.ticket(UUID(ticket_id)).sla_recorded == ["first_response:warning", "first_response:breach"]

    # The agent answers and resolves; the customer answers the survey without logging in.
    ticket_url = f"{url}/tickets/{ticket_id}"
    mine = platform.headers("support_agent")
    assert httpx.post(f"{ticket_url}/replies", json={"body": "您好，我们马上处理。"}, headers=mine).status_code == 201
    resolved = httpx.post(f"{ticket_url}/status", json={"status": "resolved"}, headers=mine)
    assert resolved.status_code == 200, resolved.text
    token = resolved.json()["survey_token"]
    answer = httpx.post(f"{url}/surveys/{token}", json={"csat": 5, "nps": 9, "comment": "谢谢！"})
    assert answer.status_code == 201, answer.text
    assert httpx.post(f"{url}/surveys/{token}", json={"csat": 1}).status_code == 409

    def in_360() -> dict[str, Any] | None:
        doc = platform.customer_360(str(customer_id))
        support = (doc or {}).get("support") or {}
        return doc if support.get("csat_scores") == [5] else None

    doc = eventually(in_360, what="ticket and CSAT in the 360")
    support = doc["support"]
    assert support["tickets"][ticket_id]["status"] == "resolved"
    assert (support["closed_tickets"], support["open_tickets"], support["sla_breaches"]) == (1, 0, 1)
    assert support["nps_answers"] == [9]
