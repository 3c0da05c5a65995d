"""The README documents every setting with its default, and keeps its two commands."""

from __future__ import annotations

import re
from pathlib import Path

from data.settings import Settings

README = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")


def _table_rows() -> dict[str, str]:
    rows = {}
    for match in re.finditer(r"^\| `(GRIDCC_[A-Z_]+)` \| (.*?) \|", README, flags=re.M):
        rows[match.group(1)] = match.group(2).strip()
    return rows


def test_every_setting_is_in_the_readme_with_its_default() -> None:
    rows = _table_rows()
    for name, field in Settings.model_fields.items():
        var = f"GRIDCC_{name.upper()}"
        assert var in rows, f"{var} is not in the README's settings table"
        default = field.default
        expected = "(empty)" if default in (None, "") else f"`{default}`"
        assert rows[var] == expected, f"{var}: README says {rows[var]}, the code says {expected}"


def test_readme_has_no_setting_the_code_lacks() -> None:
    known = {f"GRIDCC_{n.upper()}" for n in Settings.model_fields}
    assert set(_table_rows()) <= known


def test_ci_runs_the_readmes_test_command() -> None:
    ci = (Path(__file__).resolve().parents[1] / ".ci" / "run").read_text()
    assert "./scripts/test" in README and "./scripts/test" in ci
