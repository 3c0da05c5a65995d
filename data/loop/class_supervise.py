"""督办 a 类案 as one item: one leader's instruction to every open case of a hotspot, in one transaction.

The caller names the hotspot (:attr:`data.queries.hotspots.Hotspot.key`); it is found again here in the
leader's own scope, as it stands now, so a key from another street or a hotspot that no longer holds
finds nothing. Each open case with a department gets the 督办 (:func:`data.loop.actions.supervise`: its
instruction, outbox message and audit row); a case without a department is counted, not sent. One
``loop_supervise_class`` audit row says which hotspot, how many were sent and how many were not.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..auth.audit import audit
from ..auth.roles import Permission
from ..auth.supervision import CaseNotFound
from ..auth.users import scope_of
from ..models import Case, UserAccount
from ..queries.hotspots import find_hotspot
from ..settings import Settings
from .actions import ActionError, Sent, _check, supervise


@dataclass(frozen=True)
class ClassSupervised:
    key: str
    category_name: str
    place_name: str
    sent: list[Sent] = field(default_factory=list)
    no_department: list[int] = field(default_factory=list)  # open cases with no department to send to
    closed: int = 0  # cases of the hotspot already closed: nothing to supervise


def supervise_class(
    session: Session, settings: Settings, actor: UserAccount, key: str, text: str, reply_by: datetime,
    now: datetime, days: int = 30, remote_addr: str = "",
) -> ClassSupervised:  # fmt: skip
    """督办 every open case of the hotspot ``key`` (see the module docstring). :class:`CaseNotFound` when
    the hotspot is not found in the leader's scope; :class:`ActionError` when no case could be sent."""
    _check(actor, Permission.SUPERVISE, "supervise cases")
    spot = find_hotspot(session, scope_of(actor), now, key, days)
    if spot is None:
        raise CaseNotFound(f"no hotspot {key[:120]!r} in scope")
    rows = session.execute(
        select(Case.id, Case.is_open, Case.department_code).where(Case.id.in_(list(spot.case_ids)))
    ).all()
    open_ids = [r.id for r in rows if r.is_open and r.department_code]
    missing = [r.id for r in rows if r.is_open and not r.department_code]
    if not open_ids:
        raise ActionError(
            "hotspot_nothing_to_supervise", f"hotspot {key!r} has no open case with a department"
        )
    sent = [
        supervise(session, settings, actor, cid, text, reply_by, now, remote_addr=remote_addr)
        for cid in open_ids
    ]
    audit(
        session, actor.username, "loop_supervise_class", f"hotspot:{key}"[:200],
        f"{spot.category_name} · {spot.place_name}: {len(sent)} sent, {len(missing)} without a department",
        remote_addr, now,
    )  # fmt: skip
    return ClassSupervised(
        key, spot.category_name, spot.place_name, sent, missing, sum(1 for r in rows if not r.is_open)
    )
