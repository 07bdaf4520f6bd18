"""Architecture rules that the suite enforces, so `make test` alone keeps them."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_import_contracts_hold_no_service_imports_another() -> None:
    lint_imports = Path(sys.executable).parent / "lint-imports"
    result = subprocess.run([str(lint_imports)], cwd=ROOT, capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "BROKEN" not in result.stdout


def test_every_service_has_its_package() -> None:
    for name in ("customer", "sales", "marketing", "support", "analytics", "social"):
        assert (ROOT / "services" / name / "__init__.py").exists(), name
