"""schemathesis against every write service's API, in process: no 5xx, no undocumented status, no answer off its schema.

Outside clients ran schemathesis over the six OpenAPI documents and found 86 answers
that contradicted them (422 bodies in the wrong shape, undocumented 400/401/403/405).
This runs the same kind of fuzzing in `make test`, bounded: a few deterministic examples
(`derandomize`: the same cases on every run, no example database) per operation and per
generation mode (valid data, and data that breaks the schema), no shrinking, as an admin
so that every route is reached. The apps run on a temporary SQLite store, so nothing
outside the test is touched; analytics, which needs its document store, is fuzzed in
`tests/integration/test_fuzz_analytics.py`.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.core.result import Err
from schemathesis.schemas import BaseSchema
from schemathesis.specs.openapi.checks import positive_data_acceptance

from shared.platform.auth import issue_token
from shared.platform.inputpolicy import kind_of
from tests.test_openapi import app_of

WRITE_SERVICES = ("customer", "sales", "marketing", "support", "social")
EXAMPLES = int(os.environ.get("CRM_FUZZ_EXAMPLES", "6"))
"""Examples per operation and generation mode: ~20 s per service on this machine."""
NOT_CHECKED = [positive_data_acceptance]
"""Every check of `--checks all` runs but this one: it wants every schema-valid request accepted, and a
request can be schema-valid and still break a rule no JSON Schema can state (a phone number that
does not exist in its region, a customer with neither email nor phone, a transition its record's
state forbids). Those are clean, documented 422/409 answers; the other checks hold them to that."""


def fuzz(schema: BaseSchema, examples: int = EXAMPLES) -> dict[str, str]:
    """Each operation's first failing check (label and mode → message); empty when every case passed.

    `schema` is loaded from the app (`from_asgi`) or from a served app (`from_url`): schemathesis'
    ASGI transport runs each call in a fresh event loop, which an app holding an async
    database client cannot survive, so analytics is served.
    """
    token = issue_token("o" * 40, "fuzz@example.com", ["admin"])
    headers = {"Authorization": f"Bearer {token}"}
    # The token is sent by us on every call, so schemathesis must not count "no token" as the invalid
    # part of a negative case (our header would undo it); `ignored_auth` still tests calls without it.
    schema.config.generation.update(with_security_parameters=False)
    rejection = schema.config.checks.negative_data_rejection
    rejection.expected_statuses = [*(rejection.expected_statuses or []), "413"]  # a body over the limit: refused
    failures: dict[str, str] = {}
    for result in schema.get_all_operations():
        if isinstance(result, Err):  # an operation schemathesis cannot read is a failure of its document
            failures[f"{result.err()}"] = "unreadable operation"
            continue
        operation = result.ok()
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            media = text_body(operation) if mode is GenerationMode.NEGATIVE else None
            fixed: dict[str, Any] = {"body": "", "media_type": media} if media else {}

            @given(case=operation.as_strategy(generation_mode=mode, **fixed))
            @settings(
                max_examples=examples,
                derandomize=True,
                database=None,
                deadline=None,
                phases=[Phase.explicit, Phase.generate],
                suppress_health_check=list(HealthCheck),
            )
            def run(case: Any) -> None:
                case.call_and_validate(headers=headers, excluded_checks=NOT_CHECKED)

            try:
                run()
            except Unsatisfiable:  # nothing to break in this mode (an operation without parameters)
                continue
            except BaseException as exc:  # checks fail as exception groups: collected, to report every operation
                if isinstance(exc, KeyboardInterrupt | SystemExit):
                    raise
                failures[f"{operation.label} [{mode.value}]"] = str(exc)[:800]
    return failures


def text_body(operation: Any) -> str | None:
    """The media type of an operation's body that the input policy does not read (a CSV import), if any.

    Its schema is `type: string`, and any bytes sent as `text/csv` are a string, so
    schemathesis' negations of it are not invalid at all ("an array instead of a string"
    arrives as the text `[]`, which an import reads as a file and answers with its per-line
    report). Negative cases of such an operation send an empty file and negate the rest.
    """
    return next((body.media_type for body in operation.body if kind_of(body.media_type) is None), None)


@pytest.mark.parametrize("service", WRITE_SERVICES)
def test_fuzzing_finds_no_server_error_and_no_answer_the_openapi_does_not_document(
    service: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = app_of(service, tmp_path, monkeypatch)
    failures = fuzz(schemathesis.openapi.from_asgi("/openapi.json", app))
    assert not failures, "\n\n".join(f"{where}\n{why}" for where, why in failures.items())
