"""Several processes opening one fresh PostgreSQL event store at once all start.

A service's API, relay and consumers start together; in a fresh database each creates
the store's tables, types and functions. PostgreSQL does not serialise concurrent
`CREATE OR REPLACE FUNCTION`, and a relay once died at start in CI on the unique
violation that follows (`shared/platform/postgres.py` serialises and retries).
"""

from __future__ import annotations

import threading
from typing import Any

import pytest

from services.customer.application import CustomerApplication
from shared.platform.relaying import tracking_recorder
from tests.integration.platform import Platform

OPENERS = 8


@pytest.mark.parametrize("store_backend", ["postgres"])
def test_processes_opening_a_fresh_store_at_once_all_start(platform: Platform) -> None:
    env = platform.store_env("customer")
    start = threading.Barrier(OPENERS)
    errors: list[BaseException] = []
    opened: list[Any] = []

    def open_store(n: int) -> None:
        start.wait()
        try:
            if n % 2:
                opened.append(CustomerApplication(env=env))
            else:
                opened.append(tracking_recorder("customers", env))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=open_store, args=(n,)) for n in range(OPENERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert len(opened) == OPENERS
    customers = next(o for o in opened if isinstance(o, CustomerApplication))
    customer_id = customers.register(name="并发", emails=["bingfa@example.cn"], phones=[])
    assert customers.repository.get(customer_id).name == "并发"
