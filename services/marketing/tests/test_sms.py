"""SMS through the pluggable HTTP gateway, against a real local HTTP receiver."""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from services.marketing.application import MarketingApplication
from services.marketing.sender import build_sender
from services.marketing.tests.conftest import join, settings_for, web_customers


class Receiver(BaseHTTPRequestHandler):
    """Keeps each SMS once per Idempotency-Key; numbers ending in 0000 are refused (400)."""

    received: dict[str, dict[str, Any]]

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        status = 400 if body["to"].endswith("0000") else 202
        if status == 202:
            self.received.setdefault(self.headers["Idempotency-Key"], body)
        self.send_response(status)
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        return None


@pytest.fixture
def gateway() -> Iterator[tuple[str, dict[str, dict[str, Any]]]]:
    received: dict[str, dict[str, Any]] = {}
    handler = type("Handler", (Receiver,), {"received": received})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/sms", received
    finally:
        server.shutdown()


def test_sms_go_to_consenting_phones_once_and_refusals_bounce(
    app: MarketingApplication, gateway: tuple[str, dict[str, dict[str, Any]]]
) -> None:
    url, received = gateway
    ok = join(app, "李娜", phone="+8613812345678", consent={"sms": True})
    join(app, "Refused", phone="+8613800000000", consent={"sms": True})
    join(app, "No SMS", phone="+8613811112222", consent={"email": True})
    segment = app.define_segment(name="web", description="", rules=web_customers(), by="m")
    campaign = app.create_campaign(
        name="短信",
        channel="sms",
        segment_id=segment.id,
        fallbacks={},
        by="m",
        variants=[{"name": "A", "weight": 1, "text": "{{ customer.name }}，春季特惠"}],
    )
    app.schedule(campaign.id, expected_version=None, send_at=None)
    sender = build_sender(settings_for(25, sms_gateway_url=url), app)
    assert asyncio.run(sender.send_campaign(campaign.id)) == {"sent": 1, "bounced": 1}
    assert [(m["to"], m["text"]) for m in received.values()] == [("+8613812345678", "李娜，春季特惠")]
    assert app.campaign(campaign.id).excluded == {"no_consent": 1}
    assert ok in {m.id for m in app.view.audience()}


def test_an_sms_campaign_does_not_start_without_a_gateway(app: MarketingApplication) -> None:
    join(app, "李娜", phone="+8613812345678", consent={"sms": True})
    segment = app.define_segment(name="web", description="", rules=web_customers(), by="m")
    campaign = app.create_campaign(
        name="短信",
        channel="sms",
        segment_id=segment.id,
        fallbacks={},
        by="m",
        variants=[{"name": "A", "weight": 1, "text": "hi"}],
    )
    app.schedule(campaign.id, expected_version=None, send_at=None)
    with pytest.raises(RuntimeError, match="SMS_GATEWAY_URL"):
        asyncio.run(build_sender(settings_for(25), app).send_campaign(campaign.id))
    assert app.campaign(campaign.id).status == "scheduled"
