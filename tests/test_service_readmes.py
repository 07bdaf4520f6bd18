"""Every service's README in one format, so a newcomer who read one finds their way in the other five.

The sections, in this order: Processes, Endpoints, Events, Rules, Configuration (more may
follow, such as Measurements). The Processes table names every process `crm/devstack.py`
runs for the service, with its module; the Endpoints section names every path of its API.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from crm.devstack import SERVICES
from tests.test_openapi import openapi_of

ROOT = Path(__file__).resolve().parents[1]
NAMES = ("customer", "sales", "marketing", "support", "social", "analytics")
SECTIONS = ("Processes", "Endpoints", "Events", "Rules", "Configuration")


def sections(text: str) -> dict[str, str]:
    """Second-level heading (its first word) → the text under it."""
    parts = re.split(r"^## (\w+).*$", text, flags=re.MULTILINE)
    return {parts[i]: parts[i + 1] for i in range(1, len(parts), 2)}


@pytest.mark.parametrize("name", NAMES)
def test_the_readme_has_the_shared_sections_in_order(name: str) -> None:
    found = list(sections((ROOT / "services" / name / "README.md").read_text()))
    assert [s for s in found if s in SECTIONS] == list(SECTIONS), found
    assert found[: len(SECTIONS) - 1] == list(SECTIONS[:-1]), "Processes, Endpoints, Events and Rules come first"


@pytest.mark.parametrize("name", NAMES)
def test_the_processes_table_names_every_process_and_its_module(name: str) -> None:
    table = sections((ROOT / "services" / name / "README.md").read_text())["Processes"]
    mine = [s for s in SERVICES if s.module.startswith(f"services.{name}.")]
    assert mine
    for service in mine:
        assert f"`{service.name}` | `{service.module}`" in table, service.name


COMMON = {"/healthz", "/readyz", "/metrics", "/asyncapi.json"}
"""Paths every service serves alike, described once in the top-level README."""


def shape(path: str) -> str:
    """A path with its parameters unnamed: `/tickets/{ticket_id}` and `/tickets/{id}` are one."""
    return re.sub(r"\{[^}]*\}", "{}", path)


@pytest.mark.parametrize("name", NAMES)
def test_the_endpoints_section_names_every_path(name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    endpoints = shape(sections((ROOT / "services" / name / "README.md").read_text())["Endpoints"])
    document = openapi_of(name, tmp_path, monkeypatch)
    missing = [p for p in document["paths"] if p not in COMMON and shape(p) not in endpoints]
    if name == "analytics":  # one row stands for every report: `/reports/{name}`
        missing = [p for p in missing if not re.fullmatch(r"/reports/[a-z-]+(/jobs)?", p)]
    assert missing == [], f"{name}'s README Endpoints lacks {missing}"
