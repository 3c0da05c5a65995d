"""督办 supervision cards issued and cancelled by hand, by a leader, on a case in the leader's scope.

Each action is a ``case_event`` (kind ``supervision``; ``detail`` is the card, ``"yellow"`` or
``"red"``, as the deadline job writes it, or ``"cancel:<card>"`` for a cancellation; ``actor`` is the
leader's user name) and an audit row. ``check_deadlines`` still raises cards by the clock: cancelling
the card of a case that is still past its deadline lasts until the job's next run.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from data.models import Case, CaseEvent, UserAccount
from data.scope import AreaScope

from .audit import audit
from .roles import Permission, may

CARDS = ("yellow", "red")


class NotPermitted(PermissionError):
    """The account's role may not do this."""


class CaseNotFound(LookupError):
    """No such case in the viewer's scope (a case outside it is not found, not forbidden)."""


def _case_in_scope(session: Session, scope: AreaScope, case_id: int) -> Case:
    case = session.scalar(select(Case).where(Case.id == case_id, scope.clause(Case)))
    if case is None:
        raise CaseNotFound(f"no case {case_id} in scope")
    return case


def _check_leader(actor: UserAccount) -> None:
    if actor.disabled or not may(actor.role, Permission.SUPERVISE):
        raise NotPermitted(f"{actor.username} ({actor.role}) may not issue or cancel supervision cards")


def supervise(
    session: Session,
    scope: AreaScope,
    case_id: int,
    card: str,
    actor: UserAccount,
    now: datetime,
    remote_addr: str = "",
    note: str = "",
) -> CaseEvent:
    """Issue a ``yellow`` or ``red`` card on the case; the caller commits."""
    if card not in CARDS:
        raise ValueError(f"unknown card {card!r}: yellow or red")
    _check_leader(actor)
    case = _case_in_scope(session, scope, case_id)
    if not case.is_open:
        raise ValueError(f"case {case_id} is {case.status}: no card for a finished case")
    if case.supervision == card:
        raise ValueError(f"case {case_id} already has a {card} card")
    previous = case.supervision
    case.supervision = card
    event = CaseEvent(case_id=case.id, at=now, kind="supervision", detail=card, actor=actor.username)
    session.add(event)
    detail = f"{previous} → {card}" + (f"; {note.strip()[:500]}" if note.strip() else "")
    audit(session, actor.username, "supervise", f"case:{case.id}", detail, remote_addr, now)
    return event


def cancel_supervision(
    session: Session,
    scope: AreaScope,
    case_id: int,
    actor: UserAccount,
    now: datetime,
    remote_addr: str = "",
    note: str = "",
) -> CaseEvent:
    """Withdraw the case's card; the caller commits."""
    _check_leader(actor)
    case = _case_in_scope(session, scope, case_id)
    if case.supervision not in CARDS:
        raise ValueError(f"case {case_id} has no supervision card")
    previous = case.supervision
    case.supervision = "none"
    event = CaseEvent(
        case_id=case.id, at=now, kind="supervision", detail=f"cancel:{previous}", actor=actor.username
    )
    session.add(event)
    detail = f"{previous} → none" + (f"; {note.strip()[:500]}" if note.strip() else "")
    audit(session, actor.username, "supervise_cancel", f"case:{case.id}", detail, remote_addr, now)
    return event
