"""JSON Schemas of the public events, generated from the models and committed.

`python -m shared.events.schemas write` regenerates `shared/events/schemas/`, refusing
a breaking change to a committed version; `check` reports drift without writing
(the contract tests and `make lint` run it).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from shared.events.base import PublicEvent
from shared.events.compatibility import breaking_changes
from shared.events.envelope import schema_uri
from shared.events.registry import REGISTRY, EventRegistry

SCHEMA_DIR = Path(__file__).parent / "schemas"
DIALECT = "https://json-schema.org/draft/2020-12/schema"


def schema_of(model: type[PublicEvent]) -> dict[str, Any]:
    """The JSON Schema of one event's data, with its identity and routing."""
    schema = model.model_json_schema(mode="validation")
    return {
        "$schema": DIALECT,
        "$id": schema_uri(model.event_type),
        "x-event-type": model.event_type,
        "x-topic": model.topic,
        **schema,
    }


def render(schema: dict[str, Any]) -> str:
    """Canonical text of a schema file, so regeneration is byte-stable."""
    return json.dumps(schema, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def committed(model: type[PublicEvent], directory: Path = SCHEMA_DIR) -> dict[str, Any] | None:
    """The committed schema of `model`, or None for an event not published yet."""
    path = directory / model.schema_name()
    return json.loads(path.read_text("utf-8")) if path.exists() else None


def problems(registry: EventRegistry = REGISTRY, directory: Path = SCHEMA_DIR) -> tuple[list[str], list[str]]:
    """(breaking changes, drifted or missing files) between models and committed schemas."""
    breaking: list[str] = []
    drift: list[str] = []
    for model in registry:
        old, new = committed(model, directory), schema_of(model)
        if old is None or render(old) != render(new):
            drift.append(model.schema_name())
        if old is not None:
            breaking += [f"{model.event_type}: {r}" for r in breaking_changes(old, new)]
    known = {m.schema_name() for m in registry}
    drift += sorted(p.name + " (no model)" for p in directory.glob("*.json") if p.name not in known)
    return breaking, drift


def write(registry: EventRegistry = REGISTRY, directory: Path = SCHEMA_DIR) -> list[str]:
    """Regenerate the schema files; refuses (raises) if any change is breaking."""
    breaking, drift = problems(registry, directory)
    if breaking:
        raise SystemExit("breaking change to a published event; add a new version instead:\n  " + "\n  ".join(breaking))
    directory.mkdir(parents=True, exist_ok=True)
    for model in registry:
        (directory / model.schema_name()).write_text(render(schema_of(model)), "utf-8")
    return drift


def published_at(revision: str, model: type[PublicEvent]) -> dict[str, Any] | None:
    """The schema of `model` as committed at git `revision`, or None if it was not published then."""
    path = (SCHEMA_DIR / model.schema_name()).relative_to(SCHEMA_DIR.parents[2])
    shown = subprocess.run(  # noqa: S603 - fixed git command, revision given by the developer
        ["git", "show", f"{revision}:{path.as_posix()}"],  # noqa: S607
        capture_output=True,
        text=True,
        check=False,
        cwd=SCHEMA_DIR,
    )
    return json.loads(shown.stdout) if shown.returncode == 0 else None


def breaking_since(revision: str, registry: EventRegistry = REGISTRY) -> list[str]:
    """Breaking changes of the models against the schemas published at git `revision`.

    This catches what the working-tree check cannot: a model and its schema file edited
    together in one change.
    """
    reasons: list[str] = []
    for model in registry:
        old = published_at(revision, model)
        if old is not None:
            reasons += [f"{model.event_type}: {r}" for r in breaking_changes(old, schema_of(model))]
    return reasons


def main(argv: list[str]) -> int:
    """`write` regenerates the schemas; `check [--against REV]` exits 1 on drift or a breaking change."""
    if argv[:1] == ["write"]:
        for name in write():
            print(f"updated {name}")
        return 0
    breaking, drift = problems()
    if argv[1:2] == ["--against"] and len(argv) > 2:
        breaking += breaking_since(argv[2])
    for line in breaking:
        print(f"BREAKING {line}")
    for name in drift:
        print(f"DRIFT {name}: run `make schemas`")
    return 1 if breaking or drift else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
