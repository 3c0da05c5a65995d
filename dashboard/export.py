"""``GET /export/cases.csv``: the open cases of the viewer's area scope, filtered as on ``/duty``.

The filters are the duty page's URL query (``street``, ``category``, ``department``, ``status``,
``period``, ``lang``; validated by :meth:`data.case_filter.CaseFilter.from_args`: a malformed one is a
400). The
rows are those of the duty table (:func:`data.queries.open_cases` with the viewer's scope): never a case
outside the scope, whatever the URL says; a street outside it is refused (403). Phones follow
:func:`dashboard.auth.viewer.phone_view`: in full for a duty officer, masked for everyone else. A wall
account, and anybody while sign-in is off, gets 403: a display does not export. Every export, and every
refusal of a signed-in account, writes an audit row (who, when, from where, the filters, the row count).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import TypeVar

from flask import Blueprint, Flask, Response, has_request_context, request
from sqlalchemy import select
from sqlalchemy.orm import Session

from data.auth import Permission, audit, is_display, may
from data.case_filter import CaseFilter
from data.db import transaction
from data.models import Case, GridStaff
from data.queries import CaseRow, open_cases
from data.scope import AreaScope

from .auth import auth_required, current_user, phone_view
from .export_csv import HEADERS, Contacts, case_cells, csv_bytes
from .i18n import lang_from_query
from .scope import current_scope
from .services import services
from .urls import EXPORT_PATH

PATH = EXPORT_PATH
ROW_LIMIT = 50_000
CHUNK = 500
FILTER_KEYS = ("street", "category", "department", "status", "period")

REFUSALS = {
    "auth_off": (
        "导出需要登录账号（本服务器未开启登录）。",
        "Exports need a signed-in account (sign-in is off on this server).",
    ),
    "wall": ("大屏账号不能导出数据。", "A wall display account does not export."),
    "role": ("您的角色不能导出数据。", "Your role may not export."),
    "street": ("所选镇街不在您的管辖范围内。", "That street is outside your area."),
}

T = TypeVar("T")


def _chunks(items: Sequence[T], size: int = CHUNK) -> Iterable[Sequence[T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def contacts(session: Session, rows: Sequence[CaseRow]) -> dict[int, Contacts]:
    """Each case's grid workers (name, phone) and reporter phone, raw (the caller shapes them)."""
    ids = [r.id for r in rows]
    grids = sorted({r.grid_code for r in rows if r.grid_code})
    reporter: dict[int, str] = {}
    for some_ids in _chunks(ids):
        phones = select(Case.id, Case.reporter_phone).where(
            Case.id.in_(some_ids), Case.reporter_phone.is_not(None)
        )
        reporter.update({i: p or "" for i, p in session.execute(phones).tuples()})
    workers: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for some_grids in _chunks(grids):
        staff = (
            select(GridStaff.unit_code, GridStaff.name, GridStaff.phone)
            .where(GridStaff.unit_code.in_(some_grids), GridStaff.role == "grid_worker")
            .order_by(GridStaff.unit_code, GridStaff.id)
        )
        for code, name, phone in session.execute(staff).tuples():
            workers[code].append((name, phone or ""))
    return {r.id: Contacts(tuple(workers.get(r.grid_code or "", ())), reporter.get(r.id, "")) for r in rows}


def _text(status: int, key: str, lang: str) -> Response:
    zh, en = REFUSALS[key]
    response = Response(f"{zh}\n{en}\n" if lang != "en" else f"{en}\n{zh}\n", status=status)
    response.mimetype = "text/plain"
    response.headers["Cache-Control"] = "no-store"
    return response


def _filters_text(args: dict[str, str]) -> str:
    shown = [f"{k}={args[k]}" for k in FILTER_KEYS if args.get(k)]
    return "&".join(shown) or "none"


def _refuse(key: str, lang: str, args: dict[str, str], now: datetime) -> Response:
    """403, audited when someone is signed in (a wall asking, a forged street)."""
    user = current_user() if auth_required() else None
    if user is not None:
        with transaction(services().sessions) as db:
            detail = f"{REFUSALS[key][1]} filters: {_filters_text(args)}"
            audit(db, user.username, "export_refused", "cases.csv", detail, request.remote_addr or "", now)
    return _text(403, key, lang)


def _bad(message: str) -> Response:
    response = Response(message + "\n", status=400)
    response.mimetype = "text/plain"
    response.headers["Cache-Control"] = "no-store"
    return response


def export_cases() -> Response:
    svc = services()
    settings = svc.settings
    args = {k: v for k, v in request.args.items()}
    lang = lang_from_query(args, settings.language)
    now = datetime.now(UTC)
    if not auth_required():
        return _text(403, "auth_off", lang)
    user = current_user()
    if user is None:  # the sign-in guard answers first; this is the belt to its braces
        return _text(403, "auth_off", lang)
    if is_display(user.role):
        return _refuse("wall", lang, args, now)
    if not may(user.role, Permission.READ):
        return _refuse("role", lang, args, now)
    try:
        filters = CaseFilter.from_args(args)
    except ValueError as exc:
        return _bad(str(exc))
    scope: AreaScope = current_scope()
    if filters.street and not scope.contains(filters.street):
        return _refuse("street", lang, args, now)
    policy = phone_view()
    with svc.sessions() as session:
        rows = open_cases(session, scope, filters, ROW_LIMIT, now=now, tz=settings.timezone)
        people = contacts(session, rows) if policy != "none" else {}
    header = HEADERS.get(lang, HEADERS["zh-CN"])
    body = csv_bytes(
        header, (case_cells(r, people.get(r.id, Contacts()), lang, settings.timezone, policy) for r in rows)
    )
    addr = request.remote_addr or ""
    detail = f"{len(rows)} rows; filters: {_filters_text(args)}; lang={lang}; phones {policy}"
    if len(rows) >= ROW_LIMIT:
        detail += f"; cut at {ROW_LIMIT} rows"
    with transaction(svc.sessions) as db:
        audit(db, user.username, "export", "cases.csv", detail, addr, now)
        with_phones = any(c.reporter_phone or c.workers for c in people.values())
        if policy == "full" and with_phones:
            what = f"grid worker and reporter phones of {len(rows)} cases (export)"
            audit(db, user.username, "personal_view", "export:cases.csv", what, addr, now)
    stamp = now.astimezone(settings.tz).strftime("%Y%m%d-%H%M")
    response = Response(body, mimetype="text/csv")
    response.headers["Content-Type"] = "text/csv; charset=utf-8"
    response.headers["Content-Disposition"] = f'attachment; filename="gridcc-cases-{stamp}.csv"'
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Vary"] = "Cookie"
    return response


def make_blueprint() -> Blueprint:
    bp = Blueprint("gridcc_export", __name__)
    bp.add_url_rule(PATH, "cases_csv", export_cases, methods=["GET"])
    return bp


def register_export(server: Flask) -> None:
    server.register_blueprint(make_blueprint())


def may_export() -> bool:
    """Whether the viewer of this request may export: a signed-in account that reads and is not a wall."""
    if not has_request_context() or not auth_required():
        return False
    user = current_user()
    return user is not None and not is_display(user.role) and may(user.role, Permission.READ)
