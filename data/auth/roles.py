"""Roles and what each may do: a small table, read with :func:`may`.

- ``wall``: a display account — reads, never personal data, long-lived session;
- ``duty``: the duty officer (值班员) — reads, acknowledges alerts, annotates cases, sees personal
  data (they call the grid worker and the reporter back), keeps the risk ledger;
- ``duty``/``leader`` also act on cases in their scope (``act_on_case``): 交办, 转办, 吹哨, 上报, 下派
  (:mod:`data.loop.actions`), and at the duty desk file cases and turn alerts into cases
  (:mod:`data.desk`); whoever may acknowledge an alert may also dismiss it;
- ``leader``: 领导 — reads, issues and cancels 督办 supervision cards, sends 督办 instructions, keeps the
  risk ledger;
- ``admin``: users, feeds, geodata, the audit log.
"""

from __future__ import annotations

from datetime import timedelta
from enum import StrEnum

from .. import text


class Role(StrEnum):
    WALL = "wall"
    DUTY = "duty"
    LEADER = "leader"
    ADMIN = "admin"


class Permission(StrEnum):
    READ = "read"
    SEE_PERSONAL = "see_personal"
    ACK_ALERT = "ack_alert"
    ANNOTATE_CASE = "annotate_case"
    SUPERVISE = "supervise"
    ACT_ON_CASE = "act_on_case"  # 交办 / 转办 / 吹哨 / 上报 / 下派; 登记, 预警转案件 (data.desk)
    # ACK_ALERT: 确认 an alert, and 排除 (dismiss) it with a reason (data.desk.dismiss)
    MANAGE_RISKS = "manage_risks"  # the risk ledger: add, edit, reassign, close (销号)
    VIEW_REPORTS = "view_reports"  # /reports and its downloads (XLSX, print): duty officers and leaders
    MANAGE_USERS = "manage_users"
    MANAGE_FEEDS = "manage_feeds"
    MANAGE_GEODATA = "manage_geodata"
    VIEW_AUDIT = "view_audit"
    # a display account (the wall): no personal data at all, not even masked; no export; its long
    # session slides (renewed while it is on screen). A role is a display by this, never by its name.
    DISPLAY = "display"


P = Permission
PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.WALL: frozenset({P.READ, P.DISPLAY}),
    Role.DUTY: frozenset(
        {P.READ, P.SEE_PERSONAL, P.ACK_ALERT, P.ANNOTATE_CASE, P.MANAGE_RISKS, P.ACT_ON_CASE, P.VIEW_REPORTS}
    ),
    Role.LEADER: frozenset({P.READ, P.SUPERVISE, P.MANAGE_RISKS, P.ACT_ON_CASE, P.VIEW_REPORTS}),
    Role.ADMIN: frozenset({P.READ, P.MANAGE_USERS, P.MANAGE_FEEDS, P.MANAGE_GEODATA, P.VIEW_AUDIT}),
}

SESSION_LIFETIME: dict[Role, timedelta] = {
    Role.WALL: timedelta(days=30),
    Role.DUTY: timedelta(hours=12),
    Role.LEADER: timedelta(hours=12),
    Role.ADMIN: timedelta(hours=12),
}


def parse_role(value: str) -> Role:
    """The role named ``value``; ``ValueError`` naming the roles for anything else."""
    try:
        return Role(value.strip().lower())
    except ValueError:
        raise ValueError(f"unknown role {value!r}: one of {', '.join(r.value for r in Role)}") from None


def may(role: Role | str, permission: Permission | str) -> bool:
    """Whether ``role`` has ``permission`` (an unknown role has none)."""
    try:
        return Permission(permission) in PERMISSIONS[Role(role)]
    except ValueError:
        return False


def may_see_personal(role: Role | str) -> bool:
    """Whether phones and ID numbers may be shown unmasked to this role (never to a wall)."""
    return may(role, Permission.SEE_PERSONAL)


def is_display(role: Role | str) -> bool:
    """Whether this role is a display account (:attr:`Permission.DISPLAY`)."""
    return may(role, Permission.DISPLAY)


def longest_session() -> timedelta:
    """The longest session any role has (a display's): the cookie's lifetime and the sessions' sweep."""
    return max(SESSION_LIFETIME.values())


def session_lifetime(role: Role | str | None) -> timedelta:
    """How long a signed-in session of this role lasts (the shortest for an unknown role)."""
    try:
        return SESSION_LIFETIME[Role(role or "")]
    except ValueError:
        return min(SESSION_LIFETIME.values())


def role_label(role: str, lang: str = "zh-CN") -> str:
    """The role's name for people (``值班员``); an unknown role as it is stored."""
    return text.label("role", role, lang)
