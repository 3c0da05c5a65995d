"""What the panel offers: the actions the viewer's role may take, the case's facts that shape them (its
default time limit, whether there is a level above or below), and the departments to choose from."""

from __future__ import annotations

from dataclasses import dataclass

from flask import has_request_context
from sqlalchemy import select
from sqlalchemy.orm import Session

from data.auth import Permission, may
from data.loop.actions import LEVELS_DOWN, LEVELS_UP
from data.loop.clock import URGENCIES
from data.models import Case, Category, Department, UserAccount
from data.scope import AreaScope
from data.text import pick

from ..auth import auth_required, current_user

ACT_KINDS = ("dispatch", "redispatch", "whistle", "report_up", "send_down")  # Permission.ACT_ON_CASE
SUPERVISE_KINDS = ("supervise",)  # Permission.SUPERVISE
KINDS = ACT_KINDS + SUPERVISE_KINDS
REPLY_HOURS = (2, 4, 8, 24, 48, 72)  # a 督办's reply deadline, hours from now
DEFAULT_REPLY_HOURS = 24
HOURS_MAX = 24 * 365
CASE_ID_MAX = 2**31 - 1  # the database's integer


def case_id_of(value: object) -> int | None:
    """A case id sent by the browser, if it is one (an int, or digits, in the database's range)."""
    if isinstance(value, str) and value.isdecimal() and len(value) <= 10:
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or not 0 < value <= CASE_ID_MAX:
        return None
    return value


def kinds_for(user: UserAccount | None) -> tuple[str, ...]:
    """The actions ``user`` may take, in the panel's order (none for a disabled account or a wall)."""
    if user is None or user.disabled:
        return ()
    kinds: tuple[str, ...] = ()
    if may(user.role, Permission.ACT_ON_CASE):
        kinds += ACT_KINDS
    if may(user.role, Permission.SUPERVISE):
        kinds += SUPERVISE_KINDS
    return kinds


def viewer_kinds() -> tuple[str, ...]:
    """The actions of the signed-in viewer of this request; none without sign-in."""
    if not has_request_context() or not auth_required():
        return ()
    return kinds_for(current_user())


@dataclass(frozen=True)
class ActCase:
    """The facts of a case the panel needs."""

    id: int
    external_id: str
    priority: str
    urgency: str
    escalation_level: str
    department_code: str | None
    default_hours: int | None  # 交办's time limit by the category and priority; None without a category

    @property
    def has_level_above(self) -> bool:
        return self.escalation_level in LEVELS_UP

    @property
    def has_level_below(self) -> bool:
        return self.escalation_level in LEVELS_DOWN

    def enabled(self, kind: str) -> bool:
        if kind == "report_up":
            return self.has_level_above
        if kind == "send_down":
            return self.has_level_below
        return True


def act_case(session: Session, scope: AreaScope, case_id: int) -> ActCase | None:
    """The case ``case_id`` if it lies in ``scope``; None otherwise, whatever the id."""
    case = session.scalar(select(Case).where(Case.id == case_id, scope.clause(Case)))
    if case is None:
        return None
    urgency = case.priority if case.priority in URGENCIES else "normal"
    hours = None
    if case.category_code:
        category = session.get(Category, case.category_code)
        hours = category.limit_hours(urgency) if category is not None else None
    return ActCase(
        case.id, case.external_id, case.priority, urgency, case.escalation_level, case.department_code, hours
    )


def department_choices(session: Session, lang: str) -> list[dict[str, str]]:
    """Every department of the catalogue, by name in the page's language."""
    rows = session.execute(select(Department.code, Department.name, Department.name_en)).all()
    return [{"value": code, "label": pick(lang, name, name_en)} for code, name, name_en in sorted(rows)]
