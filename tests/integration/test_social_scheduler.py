"""A scheduled post is published exactly once through a local platform server, across a scheduler crash.

The local server plays the platform the generic HTTP connector talks to, and honours
`Idempotency-Key` like real platform APIs. It holds its answer to the first publish until
the test has killed the scheduler (SIGKILL: no clean shutdown), so the post exists on the
platform while the social service has not recorded it. The restarted scheduler calls again
with the same key and records the one post the platform has.
"""

from __future__ import annotations

import json
import signal
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest

from shared.events import EventEnvelope
from tests.integration.platform import Platform, eventually


class LocalPlatform:
    """A platform API on 127.0.0.1: POST /posts creates a post once per idempotency key."""

    def __init__(self) -> None:
        self.posts: dict[str, dict[str, Any]] = {}
        self.requests: list[dict[str, Any]] = []
        self.hold_first = threading.Event()  # set: the first answer may go out
        self.lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/api"

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        platform = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                key = self.headers["Idempotency-Key"]
                with platform.lock:
                    first = not platform.requests
                    platform.requests.append({"key": key, "auth": self.headers["Authorization"], **body})
                    post = platform.posts.setdefault(key, {"id": f"lp-{len(platform.posts) + 1}", **body})
                if first:
                    platform.hold_first.wait(60)
                answer = json.dumps({"id": post["id"]}).encode()
                try:
                    self.send_response(201)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(answer)))
                    self.end_headers()
                    self.wfile.write(answer)
                except OSError:
                    pass  # the scheduler that asked was killed meanwhile

            def log_message(self, format: str, *args: Any) -> None:
                return

        return Handler

    def close(self) -> None:
        self.hold_first.set()
        self.server.shutdown()


@pytest.fixture
def local_platform() -> Iterator[LocalPlatform]:
    server = LocalPlatform()
    yield server
    server.close()


def post_state(platform: Platform, post_id: str) -> dict[str, Any]:
    response = httpx.get(f"{platform.url('social')}/posts/{post_id}", headers=platform.headers("marketer"))
    assert response.status_code == 200, response.text
    state: dict[str, Any] = response.json()
    return state


@pytest.mark.parametrize("store_backend", ["sqlite"])
def test_a_scheduled_post_is_published_exactly_once_across_a_scheduler_crash(
    platform: Platform, local_platform: LocalPlatform
) -> None:
    fast = {"CRM_SOCIAL_SCHEDULER_INTERVAL_SECONDS": "0.2"}
    scheduler = platform.start("social-scheduler", **fast)
    platform.start("social-relay")
    platform.start("social")
    marketer = platform.headers("marketer")
    account = {
        "platform": "weibo",
        "handle": "@acme_cn",
        "endpoint_url": local_platform.url,
        "credentials": {"token": "tok-9"},
    }
    account_id = httpx.post(f"{platform.url('social')}/accounts", json=account, headers=marketer).json()["id"]
    body = {"account_id": account_id, "text": "春季新品上市！", "scheduled_for": datetime.now(UTC).isoformat()}
    created = httpx.post(f"{platform.url('social')}/posts", json=body, headers=marketer)
    assert created.status_code == 201, created.text
    post_id = created.json()["id"]

    eventually(lambda: local_platform.requests, what="the scheduler called the platform")
    assert post_state(platform, post_id)["status"] == "publishing", "the attempt is recorded before the call"
    scheduler.kill(signal.SIGKILL)
    local_platform.hold_first.set()

    platform.start("social-scheduler", **fast)
    published = eventually(
        lambda: (state := post_state(platform, post_id))["status"] == "published" and state, what="published"
    )
    assert published["platform_post_id"] == "lp-1"
    assert len(local_platform.posts) == 1, "the platform holds one post"
    assert {r["key"] for r in local_platform.requests} == {f"post-{post_id}"}, "every call used the same key"
    assert local_platform.requests[0]["auth"] == "Bearer tok-9"

    def published_on_kafka() -> list[EventEnvelope]:
        envelopes = [EventEnvelope.from_kafka(r.headers, r.value or b"") for r in platform.records("crm.social.v1")]
        return [e for e in envelopes if e.type == "crm.social.post_published.v1"]

    [event] = eventually(published_on_kafka, what="PostPublished on Kafka")
    assert event.data["platform_post_id"] == "lp-1"
    assert len(local_platform.requests) == 2
