"""What a report request asks for, checked once for the page, the XLSX download and the print view.

The query string holds ``area`` (a unit code; the widest unit of the viewer's scope by default),
``period`` (day | week | month | quarter | year | custom; ``week`` by default), ``date`` (any local day
of the period, ``YYYY-MM-DD``; empty: the last complete period) and, for ``custom``, ``first`` and
``last``. Who may ask: a signed-in account with ``view_reports`` (duty officers and leaders; never a
wall display, nor anybody while sign-in is off). The area must lie inside the account's scope: a street
leader's forged ``area`` of another street, or of the district above, is refused (403) and audited.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from flask import has_request_context, request

from data.auth import Permission, audit, may
from data.db import transaction
from data.queries.report_periods import PERIOD_KINDS, ReportPeriod, report_period
from data.queries.reports import Report, build_report, default_area

from ..auth import auth_required, current_user
from ..scope import current_scope
from ..services import services

KEYS = ("area", "period", "date", "first", "last")


@dataclass(frozen=True)
class Refusal:
    """Why a request gets no report: ``status`` (400, 403) and the catalogue key of the sentence."""

    status: int
    key: str
    reason: str = ""


@dataclass(frozen=True)
class Asked:
    """The report's parameters as the viewer gave them (kept in the form and the download links)."""

    area: str
    kind: str
    day: str
    first: str
    last: str

    def query(self) -> dict[str, str]:
        out = {"area": self.area, "period": self.kind}
        if self.kind == "custom":
            out |= {"first": self.first, "last": self.last}
        elif self.day:
            out["date"] = self.day
        return out


def may_view() -> bool:
    """Whether the viewer of this request may see reports."""
    if not has_request_context() or not auth_required():
        return False
    user = current_user()
    return user is not None and may(user.role, Permission.VIEW_REPORTS)


def _day(value: str) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ValueError(f"not a date: {value[:20]!r}") from None


def asked(args: dict[str, str]) -> Asked:
    scope = current_scope()
    area = (args.get("area") or "").strip() or default_area(scope) or ""
    kind = (args.get("period") or "week").strip()
    return Asked(area, kind, (args.get("date") or "").strip(), (args.get("first") or "").strip(),
                 (args.get("last") or "").strip())  # fmt: skip


def period_of(ask: Asked, now: datetime) -> ReportPeriod:
    if ask.kind not in PERIOD_KINDS:
        raise ValueError(f"unknown period {ask.kind[:20]!r}")
    tz = services().settings.timezone
    return report_period(ask.kind, now, tz, anchor=_day(ask.day), first=_day(ask.first), last=_day(ask.last))


def _audit_refusal(ask: Asked, reason: str, now: datetime) -> None:
    user = current_user() if auth_required() else None
    if user is None:
        return
    with transaction(services().sessions) as db:
        detail = f"{reason}; area={ask.area[:20]} period={ask.kind[:20]}"
        audit(db, user.username, "export_refused", "reports", detail, request.remote_addr or "", now)


def read_report(args: dict[str, str], now: datetime | None = None) -> tuple[Asked, Report | Refusal]:
    """The report the request asks for, or why not."""
    now = now or datetime.now(UTC)
    ask = asked(args)
    if not may_view():
        _audit_refusal(ask, "role", now)
        return ask, Refusal(403, "report_refused_role")
    try:
        period = period_of(ask, now)
    except ValueError as exc:
        return ask, Refusal(400, "report_bad_request", str(exc))
    svc = services()
    with svc.sessions() as session:
        try:
            found: Any = build_report(session, current_scope(), ask.area, period, now, svc.settings.timezone)
        except PermissionError:
            found = None
        except ValueError as exc:
            return ask, Refusal(400, "report_bad_request", str(exc))
    if found is None:
        _audit_refusal(ask, "area outside scope", now)
        return ask, Refusal(403, "report_refused_area")
    return ask, found
