"""The demo's sign-in accounts: made on the first start of ``gridcc demo``, reused after.

Four accounts, one per role (``docs/access.md``): ``admin`` and ``leader`` for the whole default
district, ``duty`` for its first street, ``wall`` for the district's wall display. Their random
passwords and the wall's sign-in link are printed once and kept in ``<data_dir>/demo-accounts.json``
(mode 600), so tests and a newcomer can find them again; a later start prints that the accounts exist
and the wall link again (a new one if the stored link no longer works).
"""

from __future__ import annotations

import json
import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from data import text
from data.auth import create_user, get_user, make_wall_link, user_for_link
from data.db import make_engine, make_sessionmaker, transaction
from data.models import AdminUnit
from data.settings import Settings

FILE_NAME = "demo-accounts.json"
ACTOR = "demo"


@dataclass
class DemoAccounts:
    """What the demo tells its user: the accounts (with passwords when known) and the wall link."""

    path: Path
    accounts: list[dict[str, str]] = field(default_factory=list)
    created: list[str] = field(default_factory=list)
    wall_link: str = ""
    signin_url: str = ""

    def lines(self, lang: str = text.DEFAULT) -> list[str]:
        """The lines ``gridcc demo`` prints, in ``lang``."""
        out: list[str] = []
        made = "cli_demo_accounts_made" if self.created else "cli_demo_accounts_exist"
        out.append(text.t(made, lang, path=self.path))
        for a in self.accounts:
            shown = a.get("password") if a["username"] in self.created else "…"
            if not a.get("password"):
                shown = text.t("cli_demo_password_unknown", lang, username=a["username"])
            out.append(
                text.t(
                    "cli_demo_account_line",
                    lang,
                    username=f"{a['username']:<8}",
                    role=f"{a['role']:<7}",
                    label=f"{text.label('role', a['role'], lang):<4}",
                    scope=f"{a['scope']:<10}",
                    password=shown,
                )
            )
        out.append(text.t("cli_demo_sign_in_at", lang, url=self.signin_url))
        if self.wall_link:
            out.append(text.t("cli_demo_wall_link", lang, url=self.wall_link))
        return out


def plan(session: Session, district: str) -> list[tuple[str, str, str, str]]:
    """(user name, role, scope, display name) of the four accounts for ``district``."""
    first_street = session.scalar(
        select(AdminUnit.code)
        .where(AdminUnit.level == "street", AdminUnit.parent_code == district)
        .order_by(AdminUnit.code)
        .limit(1)
    )
    street_name = session.scalar(select(AdminUnit.name).where(AdminUnit.code == first_street)) or ""
    return [
        ("admin", "admin", district, "演示管理员"),
        ("leader", "leader", district, "演示领导"),
        ("duty", "duty", first_street or district, f"{street_name}值班员"),
        ("wall", "wall", district, "指挥中心大屏"),
    ]


def _read(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _write(path: Path, data: dict[str, Any]) -> None:
    """Written readable by the owner only (it holds passwords and the wall link)."""
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        json.dump(data, out, ensure_ascii=False, indent=2)
    os.chmod(tmp, 0o600)
    os.replace(tmp, path)


def ensure_demo_accounts(settings: Settings, base_url: str) -> DemoAccounts:
    """Make the accounts that do not exist yet, keep a working wall link, and write the file."""
    data_dir = settings.ensure_data_dir()
    path = (data_dir / FILE_NAME).resolve()
    stored = _read(path)
    known = {a.get("username"): a for a in stored.get("accounts", []) if isinstance(a, dict)}
    secret = settings.effective_secret_key()
    base = base_url.rstrip("/")
    result = DemoAccounts(path=path, signin_url=f"{base}/signin")
    engine = make_engine(settings)
    try:
        with transaction(make_sessionmaker(engine)) as session:
            for username, role, scope, name in plan(session, settings.default_district):
                user = get_user(session, username)
                if user is None:
                    password = secrets.token_urlsafe(9)
                    user = create_user(
                        session, username, password, role, scope, display_name=name, actor=ACTOR
                    )
                    result.created.append(username)
                else:
                    password = str((known.get(username) or {}).get("password") or "")
                result.accounts.append(
                    {"username": username, "password": password, "role": user.role, "scope": user.scope_codes}
                )
            link = str(stored.get("wall_link") or "")
            token = link.rsplit("/", 1)[-1] if link else ""
            wall = get_user(session, "wall")
            if wall is not None and wall.role == "wall" and not wall.disabled:
                if not token or user_for_link(session, token, secret) is None:
                    token = make_wall_link(session, "wall", secret, actor=ACTOR)
                result.wall_link = f"{base}/signin/token/{token}"
    finally:
        engine.dispose()
    _write(path, {"accounts": result.accounts, "wall_link": result.wall_link, "signin": result.signin_url})
    return result
