"""预警转案件: an alert turned into a case linked to it (``alert.case_id``, state ``linked``).

The case is filed as at the desk (:mod:`.filing`: source ``desk``, a ``created`` event by the account
whose detail names the alert, ``alert:<id>``); the alert gets a ``linked`` event naming the case
(``case:<id> <number>``) and counts as acknowledged by the account. Its place: the one chosen on the
form, else the alert's own grid when it is in the account's scope, else the first grid of the account's
scope the alert covers. Title and description default to the alert's headline and description.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from ..auth.audit import audit
from ..auth.roles import Permission
from ..auth.users import scope_of
from ..masking import neutralise
from ..models import Alert, AlertEvent, AlertGrid, UserAccount
from ..scope import AreaScope
from .alerts import OPEN_ALERT_STATES, open_alert
from .errors import AlertNotFound, DeskRefused
from .fields import DESCRIPTION_MAX, column_limit
from .filing import CaseForm, Filed, check_actor, check_form, create_case
from .place import Place, resolve_place

LAYERS = ("cases", "alerts", "kpis")


def _alert_place(session: Session, scope: AreaScope, alert: Alert) -> Place:
    if alert.grid_code and scope.contains(alert.grid_code):
        return Place(alert.grid_code, "code", alert.lon, alert.lat)
    for (grid,) in session.execute(
        select(AlertGrid.grid_code).where(AlertGrid.alert_id == alert.id).order_by(AlertGrid.grid_code)
    ):
        if scope.contains(grid):
            return Place(grid, "code")
    if alert.street_code and scope.contains(alert.street_code):
        return Place(alert.community_code or alert.street_code, "code")
    raise DeskRefused("no_place", f"alert {alert.id} names no place in the account's area: choose one")


def _defaults(form: CaseForm, alert: Alert) -> CaseForm:
    """The alert's own words where the form left a field empty (cut to the case's columns: they were
    stored from a checked feed record, and only the officer's own typing is refused for its length)."""
    title = form.title if isinstance(form.title, str) and form.title.strip() else None
    description = form.description if isinstance(form.description, str) and form.description.strip() else None
    address = form.address if isinstance(form.address, str) and form.address.strip() else None
    return replace(
        form,
        title=title or neutralise(alert.headline or alert.event)[: column_limit("title")],
        description=description or neutralise(alert.description)[:DESCRIPTION_MAX],
        address=address or neutralise(alert.area_desc)[: column_limit("address")],
    )


def alert_to_case(
    session: Session,
    actor: UserAccount | None,
    alert_id: object,
    form: CaseForm,
    now: datetime,
    tz: str = "Asia/Shanghai",
    remote_addr: str = "",
) -> Filed:
    """Turn the alert into a case linked to it, as ``actor`` (a duty officer or a leader). The alert
    must be in the account's own scope, open (new or acknowledged, not expired) and not linked yet:
    else :class:`AlertNotFound`. The caller commits and bumps :attr:`Filed.layers`."""
    user = check_actor(actor, Permission.ACT_ON_CASE, "turn alerts into cases")
    scope = scope_of(user)
    alert = open_alert(session, scope, alert_id, now)
    checked = check_form(session, _defaults(form, alert), title_required=False)
    has_place = form.place not in (None, "") or form.lon not in (None, "")
    if has_place:
        place = resolve_place(session, scope, form.place, checked.address, form.lon, form.lat)
    else:
        place = _alert_place(session, scope, alert)
    case = create_case(session, user, checked, place, now, tz, f"alert:{alert.id}")
    linked = session.execute(
        update(Alert)
        .where(Alert.id == alert.id, Alert.case_id.is_(None), Alert.state.in_(OPEN_ALERT_STATES))
        .values(
            case_id=case.id,
            state="linked",
            modified_at=now,
            acknowledged_by=alert.acknowledged_by or user.username,
            acknowledged_at=alert.acknowledged_at or now,
        )
        .execution_options(synchronize_session=False)
    )
    if getattr(linked, "rowcount", 0) != 1:  # another desk converted or dismissed it meanwhile
        raise AlertNotFound(f"alert {alert.id} is no longer open")
    session.add(
        AlertEvent(
            alert_id=alert.id,
            at=now,
            kind="linked",
            detail=f"case:{case.id} {case.external_id}",
            actor=user.username,
        )
    )
    audit(
        session,
        user.username,
        "desk_alert_case",
        f"alert:{alert.id}",
        f"case:{case.id} {case.external_id}; {checked.category.code}; {place.code}",
        remote_addr,
        now,
    )
    session.flush()
    return Filed(case.id, case.external_id, LAYERS)
