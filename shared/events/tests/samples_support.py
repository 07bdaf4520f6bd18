"""Valid data of every support event, for the contract tests (`customer_id` is added there)."""

from __future__ import annotations

from typing import Any

SAMPLES: dict[str, dict[str, Any]] = {}
