"""`crm` starts without loading what its commands need: `--help` and `crm token` in well under a second.

A timing here would be noise on a loaded machine, so the test checks the cause instead:
starting `crm` imports no web framework, no Kafka or MongoDB client and no scipy, and the
help listed for each command is the command's own.
"""

from __future__ import annotations

import subprocess
import sys

import pytest
from typer.testing import CliRunner

from crm.cli import LAZY, app, load_command

HEAVY = ("fastapi", "scipy", "aiokafka", "pymongo", "eventsourcing", "httpx", "services")


def test_starting_crm_imports_none_of_what_its_commands_need() -> None:
    probe = f"import sys, crm.cli; print(sorted({{m.split('.')[0] for m in sys.modules}} & set({HEAVY!r})))"
    loaded = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=60)
    assert loaded.stdout.strip() == "[]"


@pytest.mark.parametrize("name", list(LAZY))
def test_each_command_is_listed_with_its_own_help_and_loads_when_run(name: str) -> None:
    command = load_command(name)
    assert LAZY[name][2] == (command.help or "").strip().splitlines()[0]
    result = CliRunner().invoke(app, [name, "--help"], prog_name="crm")
    assert result.exit_code == 0, result.output
    assert "Usage: crm " + name in " ".join(result.output.split())


def test_a_group_with_one_command_stays_a_group_and_help_lists_every_command() -> None:
    runner = CliRunner()
    assert runner.invoke(app, ["rebuild", "analytics", "--help"]).exit_code == 0  # not read as an argument
    listing = runner.invoke(app, ["--help"]).output
    assert all(name in listing for name in LAZY)
    assert runner.invoke(app, ["nope"]).exit_code == 2
