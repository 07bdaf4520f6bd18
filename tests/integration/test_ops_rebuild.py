"""`crm rebuild analytics`, `crm verify` and point-in-time reads on the real servers.

A rebuild fills a new generation while the API serves the old one and commands keep
arriving; the switch causes no read error and loses nothing. A rebuild killed midway
resumes its generation. `--until` and `?as_of=` give the past as computed by hand.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from uuid import UUID

import httpx
import pytest
from typer.testing import CliRunner

from crm.cli import app
from tests.integration.platform import Platform, eventually

pytestmark = pytest.mark.parametrize("store_backend", ["sqlite"])


def _crm(platform: Platform, *args: str) -> tuple[int, Any]:
    result = CliRunner().invoke(app, [*args, "--json"], env=platform.stack.env)
    assert result.exit_code in (0, 1), result.output
    return result.exit_code, json.loads(result.stdout)


def _visible(platform: Platform, ids: list[UUID]) -> bool | None:
    return all(platform.customer_360(str(c)) is not None for c in ids) or None


def _control(platform: Platform) -> dict[str, Any]:
    return {d["_id"]: d for d in platform.mongo["projection_generations"].find({})}


def test_rebuild_switches_while_commands_arrive_without_a_read_error(platform: Platform) -> None:
    store = platform.store()
    for name in ("customer-relay", "analytics-projector", "analytics"):
        platform.start(name)
    first = [store.register(name=f"顾客 {n}", emails=[f"r{n}@example.com"], phones=[]) for n in range(40)]
    eventually(lambda: _visible(platform, first), timeout=90, what="first customers in the 360")

    written: list[UUID] = []
    errors: list[str] = []
    stop = threading.Event()

    def write() -> None:
        n = 0
        while not stop.is_set():
            written.append(store.register(name=f"新客 {n}", emails=[f"w{n}@example.com"], phones=[]))
            n += 1
            time.sleep(0.05)

    def read() -> None:
        with httpx.Client(base_url=platform.url("analytics"), headers=platform.headers("sales_rep")) as client:
            while not stop.is_set():
                for customer_id in first[::8]:
                    response = client.get(f"/customers/{customer_id}/360")
                    if response.status_code != 200:
                        errors.append(f"{response.status_code} {response.text}")

    threads = [threading.Thread(target=write), threading.Thread(target=read)]
    for thread in threads:
        thread.start()
    try:
        time.sleep(0.5)
        code, result = _crm(platform, "rebuild", "analytics", "--lag-threshold", "5")
        time.sleep(2)  # commands keep arriving after the switch too
    finally:
        stop.set()
        for thread in threads:
            thread.join()
    assert code == 0, result
    assert result["generation"] == 1
    assert result["switched_from"] == 0
    assert result["applied"] >= len(first)
    assert errors == []
    assert _control(platform)["active"]["number"] == 1

    eventually(lambda: _visible(platform, first + written), timeout=90, what="every customer after the switch")
    gen1 = platform.mongo.client[f"{platform.mongo.name}_g1"]["customer_360"]
    assert gen1.count_documents({}) == len(first) + len(written)

    def healthy() -> dict[str, Any] | None:
        code, status = _crm(platform, "status")
        active = [p for p in status["projections"] if p["status"] == "active"]
        return status if code == 0 and [p["generation"] for p in active] == [1] and active[0]["lag"] == 0 else None

    status = eventually(healthy, timeout=60, what="crm status: generation 1 active and caught up")
    assert all(p["group"] != "analytics" for p in status["consumers"]), "the retired group no longer counts"
    assert status["projections"][-1]["last_event_at"] is not None

    code, report = _crm(platform, "verify")
    assert code == 0, report
    assert report["generation"] == 1
    assert report["equal"] is True
    assert report["counts"]["customer_360"] == len(first) + len(written)


def test_a_rebuild_killed_midway_resumes_its_generation(platform: Platform) -> None:
    store = platform.store()
    platform.start("customer-relay")
    ids = [store.register(name=f"客户 {n}", emails=[f"k{n}@example.com"], phones=[]) for n in range(300)]
    eventually(lambda: platform.end_offsets("crm.customer.v1") >= len(ids) or None, timeout=60, what="published")

    small = {"CRM_ANALYTICS_REBUILD__BATCH_SIZE": "5", "CRM_ANALYTICS_REBUILD__CHECKPOINT_RECORDS": "10"}
    env = os.environ | platform.stack.env | small
    process = subprocess.Popen(
        [str(Path(sys.executable).parent / "crm"), "rebuild", "analytics", "--json"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        eventually(lambda: _control(platform).get("g1", {}).get("events", 0) >= 50 or None, timeout=60, what="progress")
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait()
    killed = _control(platform)["g1"]
    assert killed["status"] == "building"
    assert 50 <= killed["events"] < len(ids)

    code, result = _crm(platform, "rebuild", "analytics", "--lag-threshold", "0")
    assert code == 0, result
    assert result["generation"] == 1
    assert result["resumed"] is True
    assert result["consumed"] < len(ids)
    gen1 = platform.mongo.client[f"{platform.mongo.name}_g1"]
    assert gen1["customer_360"].count_documents({}) == len(ids)
    assert _control(platform)["active"]["number"] == 1


def test_until_and_as_of_give_the_past_as_computed_by_hand(platform: Platform) -> None:
    store = platform.store()
    for name in ("customer-relay", "analytics-projector", "analytics"):
        platform.start(name)
    before = datetime.now(UTC)
    time.sleep(0.05)
    first = store.register(name="甲", emails=["jia@example.com"], phones=[], tags=["vip"])
    time.sleep(0.05)
    moment = datetime.now(UTC)
    time.sleep(0.05)
    store.update_profile(first, expected_version=None, name="乙")
    second = store.register(name="丙", emails=["bing@example.com"], phones=[])
    eventually(lambda: platform.customer_360(str(second)), timeout=60, what="second customer in the 360")
    eventually(lambda: platform.customer_360(str(first), name="乙"), timeout=60, what="the rename")

    def as_of(customer_id: UUID, when: datetime) -> httpx.Response:
        return httpx.get(
            f"{platform.url('analytics')}/customers/{customer_id}/360",
            params={"as_of": when.isoformat()},
            headers=platform.headers("sales_rep"),
        )

    past = as_of(first, moment)
    assert past.status_code == 200, past.text
    assert past.json()["name"] == "甲"
    assert past.json()["tags"] == ["vip"]
    assert past.json()["event_count"] == 1
    assert as_of(second, moment).status_code == 404
    assert as_of(first, before).status_code == 404
    assert as_of(first, datetime.now(UTC)).json()["name"] == "乙"
    naive = httpx.get(
        f"{platform.url('analytics')}/customers/{first}/360",
        params={"as_of": "2026-01-01T00:00:00"},
        headers=platform.headers("sales_rep"),
    )
    assert naive.status_code == 422

    code, result = _crm(platform, "rebuild", "analytics", "--until", moment.isoformat())
    assert code == 0, result
    assert result["switched_from"] is None
    assert result["after_until"] >= 2
    generation = platform.mongo.client[f"{platform.mongo.name}_g{result['generation']}"]
    assert generation["customer_360"].find_one({"_id": str(first)})["name"] == "甲"  # type: ignore[index]
    assert generation["customer_360"].find_one({"_id": str(second)}) is None
    assert _control(platform).get("active") is None  # still generation 0: --until never switches
    assert _control(platform)[f"g{result['generation']}"]["status"] == "ready"
