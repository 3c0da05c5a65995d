"""A wall is told apart by a permission of the roles table (``Permission.DISPLAY``), not by its name:
its self-renewing session, its "no personal data at all" and its refused export follow the table."""

from __future__ import annotations

import re
from pathlib import Path

from data.auth import Role, is_display, longest_session, session_lifetime

ROOT = Path(__file__).resolve().parents[2]


def test_the_wall_is_the_display_role() -> None:
    assert is_display(Role.WALL) and is_display("wall")
    assert not any(is_display(role) for role in Role if role is not Role.WALL)
    assert not is_display("nobody")
    assert longest_session() == session_lifetime(Role.WALL)


def test_no_code_tells_a_wall_by_its_role_name() -> None:
    found = [
        f"{path.relative_to(ROOT)}:{number}"
        for folder in ("dashboard", "data/auth")
        for path in (ROOT / folder).rglob("*.py")
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if re.search(r"""role\s*[!=]=\s*["']wall|session_lifetime\(["']wall""", line)
    ]
    assert found == []
