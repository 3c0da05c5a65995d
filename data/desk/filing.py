"""登记: a case filed at the duty desk (a phone call, a visitor), as if a feed had brought it.

The case has a source of its own: feed name and source ``desk``, number ``DESK-<yyyymmdd>-<nnnn>``
(the local day's running number), status ``reported``, its deadline from the category's limit for the
priority (:mod:`data.deadlines`), a ``created`` timeline event by the account, and a ``desk_file``
audit row. The reporter's name and phone are stored in the case's own columns, as a feed's are (masked
or left out on the screens by the viewer's role).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ..auth.audit import audit
from ..auth.roles import Permission, may
from ..auth.supervision import NotPermitted
from ..auth.users import scope_of
from ..deadlines import evaluate
from ..models import Case, CaseEvent, Category, Department, UserAccount
from ..models.catalogue import PRIORITIES
from ..search.terms import search_columns
from .errors import DeskRefused
from .fields import DESCRIPTION_MAX, clean_phone, clean_text, column_limit
from .place import Place, resolve_place

DESK_FEED = "desk"  # the feed name and source of every case filed here
LAYERS = ("cases", "kpis")  # the layer versions a new case changes


@dataclass(frozen=True)
class CaseForm:
    """What the form sends, untrusted: every field is checked by :func:`file_case`."""

    category: object = None
    title: object = None
    description: object = None
    priority: object = "normal"
    place: object = None  # a street, community or grid code
    address: object = None
    lon: object = None
    lat: object = None
    reporter_name: object = None
    reporter_phone: object = None
    department: object = None


@dataclass(frozen=True)
class Filed:
    case_id: int
    external_id: str
    layers: tuple[str, ...] = LAYERS


def check_actor(actor: UserAccount | None, permission: Permission, what: str) -> UserAccount:
    """The account, when it may ``permission``; :class:`NotPermitted` otherwise (a wall, an admin,
    nobody signed in, a disabled account)."""
    if actor is None or actor.disabled or not may(actor.role, permission):
        who = f"{actor.username} ({actor.role})" if actor is not None else "nobody signed in"
        raise NotPermitted(f"{who} may not {what}")
    return actor


def _category(session: Session, value: object) -> Category:
    code = value.strip() if isinstance(value, str) else ""
    category = session.get(Category, code) if code and len(code) <= 40 else None
    if category is None:
        raise DeskRefused("bad_category", f"no category {str(value)[:40]!r}")
    return category


def _priority(value: object) -> str:
    priority = value.strip() if isinstance(value, str) and value.strip() else "normal"
    if priority not in PRIORITIES:
        raise DeskRefused(
            "bad_priority", f"unknown priority {str(value)[:20]!r}: one of {', '.join(PRIORITIES)}"
        )
    return priority


def _department(session: Session, value: object, category: Category) -> str | None:
    code = value.strip() if isinstance(value, str) else ""
    if not code:
        return category.lead_department_code
    if len(code) > 40 or session.get(Department, code) is None:
        raise DeskRefused("bad_department", f"no department {code[:40]!r}")
    return code


def _number(session: Session, day: str) -> int:
    prefix = f"DESK-{day}-"
    count = session.scalar(
        select(func.count())
        .select_from(Case)
        .where(Case.feed_name == DESK_FEED, Case.external_id.startswith(prefix))
    )
    return int(count or 0) + 1


@dataclass(frozen=True)
class _Checked:
    category: Category
    priority: str
    department: str | None
    title: str
    description: str
    address: str
    reporter_name: str
    reporter_phone: str


def check_form(session: Session, form: CaseForm, title_required: bool = True) -> _Checked:
    """Every field of ``form`` cleaned and checked (:class:`DeskRefused` at the first that is not)."""
    category = _category(session, form.category)
    return _Checked(
        category=category,
        priority=_priority(form.priority),
        department=_department(session, form.department, category),
        title=clean_text(form.title, "title", column_limit("title"), required=title_required),
        description=clean_text(form.description, "description", DESCRIPTION_MAX, lines=True),
        address=clean_text(form.address, "address", column_limit("address")),
        reporter_name=clean_text(form.reporter_name, "reporter_name", column_limit("reporter_name")),
        reporter_phone=clean_phone(form.reporter_phone),
    )


def create_case(
    session: Session,
    actor: UserAccount,
    checked: _Checked,
    place: Place,
    now: datetime,
    tz: str,
    detail: str,
    phone_key: bytes | None = None,
) -> Case:
    """Insert the case and its ``created`` event (the caller audits and commits); ``phone_key`` hashes
    the reporter's phone for the case search (:func:`data.search.phone_hash`)."""
    title = checked.title or checked.category.name
    found = search_columns(title, checked.description, checked.address, checked.reporter_phone, phone_key)
    limit = checked.category.limit_hours(checked.priority)
    clock = evaluate(now, limit, now, True)
    day = now.astimezone(ZoneInfo(tz)).strftime("%Y%m%d")
    for _attempt in range(50):  # a clash with a desk filing at the same moment: the next number
        number = _number(session, day)
        case = Case(
            feed_name=DESK_FEED,
            external_id=f"DESK-{day}-{number:04d}",
            source=DESK_FEED,
            department_code=checked.department,
            category_code=checked.category.code,
            category_name=checked.category.name,
            priority=checked.priority,
            status="reported",
            source_status="",
            title=title,
            description=checked.description,
            address=checked.address,
            lon=place.lon,
            lat=place.lat,
            placement=place.method,
            reporter_name=checked.reporter_name or None,
            reporter_phone=checked.reporter_phone or None,
            search_terms=found["search_terms"],
            phone_hash=found["phone_hash"],
            requested_at=now,
            accepted_at=now,
            source_updated_at=now,
            deadline_at=clock.deadline_at,
            is_open=True,
            due_soon=clock.due_soon,
            overdue=clock.overdue,
            supervision="none",
            escalation_level="community",
            created_at=now,
            modified_at=now,
        )
        case.set_place(place.code)
        try:
            with session.begin_nested():  # two desks filing at once: the second takes the next number
                session.add(case)
                session.flush()
        except IntegrityError:
            continue
        session.add(
            CaseEvent(
                case_id=case.id,
                at=now,
                kind="created",
                to_status="reported",
                detail=detail,
                actor=actor.username,
                feed_name=DESK_FEED,
            )
        )
        session.flush()
        return case
    raise DeskRefused("busy", "could not number the case: try again")


def file_case(
    session: Session,
    actor: UserAccount | None,
    form: CaseForm,
    now: datetime,
    tz: str = "Asia/Shanghai",
    remote_addr: str = "",
    phone_key: bytes | None = None,
) -> Filed:
    """登记: file the case of ``form`` as ``actor`` (a duty officer or a leader), in a place of the
    account's own scope. :class:`NotPermitted` for any other account, :class:`DeskRefused` for a form
    that cannot be filed; nothing is written then. The caller commits and bumps :attr:`Filed.layers`."""
    user = check_actor(actor, Permission.ACT_ON_CASE, "file cases")
    checked = check_form(session, form)
    address = checked.address
    place = resolve_place(session, scope_of(user), form.place, address, form.lon, form.lat)
    case = create_case(session, user, checked, place, now, tz, "", phone_key)
    audit(
        session,
        user.username,
        "desk_file",
        f"case:{case.id}",
        f"{case.external_id}; {checked.category.code}; {checked.priority}; {place.code} ({place.method})",
        remote_addr,
        now,
    )
    return Filed(case.id, case.external_id)
