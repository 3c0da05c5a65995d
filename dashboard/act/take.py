"""The server side of the panel: one action, for the signed-in account, on a case looked up again in its
scope. Nothing from the browser is trusted: the case id is only an id (a case outside the scope is "not
found" and nothing is written), each field is checked for its type and bounds, and the role is checked
again by :mod:`data.loop.actions` (which also writes the audit row)."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from flask import request

from data.auth import CaseNotFound, NotPermitted
from data.db import transaction
from data.loop import actions
from data.loop.actions import TEXT_MAX, ActionError
from data.loop.clock import URGENCIES
from layers import versions

from ..auth import auth_required, current_user
from ..i18n import t
from ..loop_delivery import deliver_soon
from ..redis_or import redis_or
from ..services import services
from .choices import HOURS_MAX, KINDS, REPLY_HOURS, case_id_of, kinds_for


@dataclass
class Fields:
    """The form as the browser sent it, checked (``problem``: a catalogue key, or "")."""

    kind: str = ""
    department: str | None = None
    hours: int | None = None
    lead: str = ""
    helpers: list[str] = field(default_factory=list)
    urgency: str | None = None
    reply_hours: int = 24
    reason: str = ""
    text: str = ""
    problem: str = ""


def _str(value: Any) -> str:
    return value.strip() if isinstance(value, str) else ""


def _code(value: Any) -> str:
    code = _str(value)
    return code if len(code) <= 40 else ""


def parse(raw: Mapping[str, Any]) -> Fields:
    """The fields of ``raw`` (each ``None`` when absent), with the first problem of the chosen action."""
    f = Fields(kind=_str(raw.get("kind")))
    f.department = _code(raw.get("department")) or None
    f.lead = _code(raw.get("lead"))
    helpers = raw.get("helpers")
    f.helpers = [c for c in (_code(h) for h in helpers) if c] if isinstance(helpers, list) else []
    urgency = raw.get("urgency")
    f.urgency = urgency if urgency in URGENCIES else None
    f.reason, f.text = _str(raw.get("reason")), _str(raw.get("text"))
    hours, reply = raw.get("hours"), raw.get("reply")
    if f.kind not in KINDS:
        f.problem = "act_not_permitted"
    elif len(f.text) > TEXT_MAX or len(f.reason) > TEXT_MAX or len(f.helpers) > 50:
        f.problem = "act_too_long"
    elif f.kind == "dispatch" and hours not in (None, ""):
        number = not isinstance(hours, bool) and isinstance(hours, int | float) and math.isfinite(hours)
        if not number or hours != int(hours):
            f.problem = "act_bad_hours"
        elif not 1 <= int(hours) <= HOURS_MAX:
            f.problem = "act_bad_hours"
        else:
            f.hours = int(hours)
    if f.problem:
        return f
    if f.kind in ("dispatch", "redispatch") and not f.department:
        f.problem = "act_need_department"
    elif f.kind == "whistle" and not f.lead:
        f.problem = "act_need_lead"
    elif f.kind == "whistle" and (f.lead in f.helpers or len(set(f.helpers)) != len(f.helpers)):
        f.problem = "act_lead_is_helper"
    elif f.kind in ("redispatch", "report_up", "send_down") and not f.reason:
        f.problem = "act_need_reason"
    elif f.kind == "supervise" and not f.text:
        f.problem = "act_need_text"
    elif f.kind == "supervise":
        try:
            f.reply_hours = int(str(reply))
        except ValueError:
            f.problem = "act_bad_reply"
        if f.reply_hours not in REPLY_HOURS:
            f.problem = "act_bad_reply"
    return f


def _run(session: Any, f: Fields, user: Any, case_id: int, now: datetime, addr: str) -> None:
    settings = services().settings
    if f.kind == "dispatch":
        assert f.department is not None
        actions.dispatch(
            session, settings, user, case_id, f.department, f.text, now, f.hours, f.urgency, remote_addr=addr
        )
    elif f.kind == "redispatch":
        assert f.department is not None
        actions.redispatch(
            session, settings, user, case_id, f.department, f.reason, now, f.text, f.urgency, remote_addr=addr
        )
    elif f.kind == "whistle":
        actions.whistle(
            session, settings, user, case_id, f.lead, f.helpers, f.text, now, f.urgency, remote_addr=addr
        )
    elif f.kind == "report_up":
        actions.report_up(session, settings, user, case_id, f.reason, now, remote_addr=addr)
    elif f.kind == "send_down":
        actions.send_down(session, settings, user, case_id, f.reason, now, remote_addr=addr)
    else:
        reply_by = now + timedelta(hours=f.reply_hours)
        actions.supervise(
            session, settings, user, case_id, f.text, reply_by, now, f.department, remote_addr=addr
        )


def refusal(error: ActionError, lang: str) -> str:
    """The words for an action the data layer refused (its ``code`` is a catalogue key)."""
    return t(error.code, lang)


TOKEN_TTL_S = 24 * 3600
_TOKEN = re.compile(r"[0-9a-f]{32}")


def _claim(token: Any) -> str | None:
    """Claim a form's once-only token: its Redis key, None when it was claimed before. A request without
    a well-formed token (not the panel's) or with Redis away claims nothing and goes on: the token
    guards against a double click, not against anyone; the role and scope checks guard the rest."""
    if not isinstance(token, str) or not _TOKEN.fullmatch(token):
        return ""
    key = f"gridcc:act-token:{token}"
    fresh = redis_or(
        True, lambda: bool(services().redis.set(key, "1", nx=True, ex=TOKEN_TTL_S)), (RuntimeError,)
    )
    return key if fresh else None


def _release(key: str) -> None:
    if key:
        redis_or(None, lambda: services().redis.delete(key), (RuntimeError,))


def take(
    case_id: Any, raw: Mapping[str, Any], lang: str, now: datetime | None = None, token: Any = None
) -> tuple[bool, str]:
    """Take the action ``raw`` describes on ``case_id`` as the signed-in viewer: (done, what to say).
    ``token`` is the form's once-only token: the same form sent twice acts once."""
    case_id = case_id_of(case_id) if isinstance(case_id, int) else None  # an int, never a string
    if case_id is None:
        return False, t("act_not_found", lang)
    user = current_user() if auth_required() else None
    f = parse(raw)
    if user is None or f.kind not in kinds_for(user):
        return False, t("act_not_permitted", lang)
    if f.problem:
        return False, t(f.problem, lang)
    svc = services()
    now = now or datetime.now(UTC)
    claimed = _claim(token)
    if claimed is None:
        return False, t("act_sent_already", lang)
    try:
        with transaction(svc.sessions) as session:
            _run(session, f, user, case_id, now, request.remote_addr or "")
    except (CaseNotFound, NotPermitted, ActionError) as error:
        _release(claimed)  # nothing was sent: the corrected form may go
        if isinstance(error, CaseNotFound):
            return False, t("act_not_found", lang)
        if isinstance(error, NotPermitted):
            return False, t("act_not_permitted", lang)
        return False, refusal(error, lang)
    except BaseException:
        _release(claimed)
        raise
    deliver_soon(svc)  # the workers deliver at once, not at the next cron run
    redis_or(None, lambda: versions.bump(svc.redis, ["cases"]))  # the wall, /duty and /overdue
    return True, t(f"act_done_{f.kind}", lang)
