"""The server side of the ledger's dialog: one change, for the signed-in account, on a risk looked up
again in its scope. Nothing from the browser is trusted: the mode and the risk id are only a word and an
id (a risk outside the scope is "not found" and nothing is written), each field is checked for its type
and bounds here, and :mod:`data.ledger` checks the role, the scope and every value again (and writes the
audit row). The form's once-only token makes a double click act once. Every refusal is a sentence from the
catalogue (``ledger_err_<code>``)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from flask import request
from sqlalchemy import select

from data.auth import NotPermitted, Permission, is_display, may, scope_of
from data.db import transaction
from data.ledger import (
    RiskError,
    RiskFields,
    RiskNotFound,
    close_risk,
    create_risk,
    edit_risk,
    local_day,
    parse_day_end,
    reassign_risk,
)
from data.models import RISK_KINDS, RISK_LEVELS, Risk, UserAccount
from layers import versions

from ..auth.viewer import auth_required, current_user
from ..i18n import t
from ..redis_or import redis_or
from ..services import services
from .form import MODES, TEXT_MAX

TOKEN_TTL_S = 24 * 3600
_TOKEN = re.compile(r"[0-9a-f]{32}")
FIELD_WORDS = {"owner unit": "owner", "owner person": "owner_person"}
FIELD_NAMES = ("title", "owner", "owner_person", "measures", "description", "evidence", "done", "ref")


class Refused(Exception):
    """A form the screen refuses before the ledger sees it: ``code`` names its words (ledger_err_…)."""

    def __init__(self, code: str, **values: object) -> None:
        super().__init__(code)
        self.code = code
        self.values = values


def manager() -> UserAccount | None:
    """The signed-in account when it may keep the ledger (never a display, nor anyone with sign-in off)."""
    user = current_user() if auth_required() else None
    if user is None or user.disabled or is_display(user.role) or not may(user.role, Permission.MANAGE_RISKS):
        return None
    return user


def words(error: Exception, lang: str) -> str:
    """Why the form was refused, for the officer."""
    if isinstance(error, NotPermitted):
        return t("ledger_err_not_permitted", lang)
    if isinstance(error, RiskNotFound):
        return t("ledger_err_not_found", lang)
    if isinstance(error, RiskError | Refused):
        raw = error.values.get("field")
        name = FIELD_WORDS.get(str(raw), str(raw or ""))
        values: dict[str, object] = {
            "field": t(f"ledger_field_{name}", lang) if name in FIELD_NAMES else name,
            "limit": "",
        }
        values.update({k: v for k, v in error.values.items() if k == "limit"})
        return t(f"ledger_err_{error.code}", lang, **values)
    return t("ledger_err_failed", lang)


def _text(raw: Mapping[str, Any], key: str, limit: int = TEXT_MAX) -> str:
    value = raw.get(key)
    text = value.strip() if isinstance(value, str) else ""
    if len(text) > limit:
        raise Refused("too_long", field=key, limit=limit)
    return text


def _code(raw: Mapping[str, Any], key: str) -> str:
    value = raw.get(key)
    return (
        value if isinstance(value, str) and value.isascii() and value.isdigit() and len(value) <= 15 else ""
    )


def _choice(raw: Mapping[str, Any], key: str, allowed: tuple[str, ...], code: str) -> str:
    value = raw.get(key)
    if value not in allowed:
        raise Refused(code)
    return str(value)


def _due(raw: Mapping[str, Any], now: datetime) -> datetime:
    text = _text(raw, "due", 40)
    if not text:
        raise Refused("need_due")
    due = parse_day_end(text)
    if due is None:
        raise Refused("bad_due")
    if due < now:
        raise Refused("due_past")
    return due


def _area(raw: Mapping[str, Any]) -> str:
    area = _code(raw, "grid") or _code(raw, "community") or _code(raw, "street")
    if not area:
        raise Refused("need_area")
    return area


def _risk_id(value: Any) -> int:
    text = str(value) if isinstance(value, int | str) else ""
    if not (text.isascii() and text.isdigit()) or len(text) > 12:
        raise RiskNotFound("not a risk id")
    return int(text)


def claim(token: Any) -> str | None:
    """The form's Redis key, claimed once; None when it was claimed before. A request without a
    well-formed token claims nothing and goes on (the token is against a double click, not anyone:
    the role and scope checks guard the rest); so does one with Redis away."""
    if not isinstance(token, str) or not _TOKEN.fullmatch(token):
        return ""
    key = f"gridcc:risk-token:{token}"
    fresh = redis_or(
        True, lambda: bool(services().redis.set(key, "1", nx=True, ex=TOKEN_TTL_S)), (RuntimeError,)
    )
    return key if fresh else None


def release(key: str) -> None:
    if key:
        redis_or(None, lambda: services().redis.delete(key), (RuntimeError,))


def _apply(
    session: Any, user: UserAccount, mode: str, risk_id: Any, raw: Mapping[str, Any], now: datetime
) -> Risk:
    scope = scope_of(user)
    addr = request.remote_addr or ""
    if mode == "create":
        fields = RiskFields(
            kind=_choice(raw, "kind", RISK_KINDS, "need_kind"),
            level=_choice(raw, "level", RISK_LEVELS, "need_level"),
            title=_text(raw, "title", 200),
            area_code=_area(raw),
            owner=_text(raw, "owner", 100),
            owner_person=_text(raw, "owner_person", 100),
            owner_phone=_text(raw, "owner_phone", 30) or None,
            due_at=_due(raw, now),
            measures=_text(raw, "measures"),
            description=_text(raw, "description"),
        )
        return create_risk(session, scope, fields, user, now, addr)
    number = _risk_id(risk_id)
    if mode == "assign":
        return reassign_risk(
            session,
            scope,
            number,
            user,
            now,
            _text(raw, "owner", 100),
            _text(raw, "owner_person", 100),
            _text(raw, "owner_phone", 30) or None,
            addr,
        )
    if mode == "close":
        return close_risk(session, scope, number, user, now, _text(raw, "done"), _text(raw, "evidence"), addr)
    risk = session.scalar(select(Risk).where(Risk.id == number, scope.clause(Risk)))
    if risk is None:
        raise RiskNotFound(f"no risk {number} in scope")
    wanted: dict[str, Any] = {
        "kind": _choice(raw, "kind", RISK_KINDS, "need_kind"),
        "level": _choice(raw, "level", RISK_LEVELS, "need_level"),
        "title": _text(raw, "title", 200),
        "measures": _text(raw, "measures"),
        "description": _text(raw, "description"),
        "area_code": _area(raw),
    }
    changes = {k: v for k, v in wanted.items() if k == "area_code" or getattr(risk, k) != v}
    if changes["area_code"] == (risk.grid_code or risk.community_code or risk.street_code):
        del changes["area_code"]
    due_text = _text(raw, "due", 40)
    if due_text != local_day(risk.due_at):
        changes["due_at"] = _due(raw, now)
    return edit_risk(session, scope, number, user, now, addr, **changes)


def save(
    mode: Any, risk_id: Any, raw: Mapping[str, Any], lang: str, token: Any = None, now: datetime | None = None
) -> tuple[bool, str]:
    """Make the change ``mode`` names as the signed-in account: (done, what to say)."""
    user = manager()
    if user is None:
        return False, t("ledger_err_not_permitted", lang)
    if mode not in MODES:
        return False, t("ledger_err_not_permitted", lang)
    now = now or datetime.now(UTC)
    claimed = claim(token)
    if claimed is None:
        return False, t("ledger_err_sent_already", lang)
    svc = services()
    try:
        with transaction(svc.sessions) as session:
            risk = _apply(session, user, str(mode), risk_id, raw, now)
            ref = risk.ref or ""
    except (NotPermitted, RiskNotFound, RiskError, Refused) as error:
        release(claimed)  # nothing was written: the corrected form may go
        return False, words(error, lang)
    except BaseException:
        release(claimed)
        raise
    redis_or(None, lambda: versions.bump(svc.redis, ["risks"]))  # the maps and the wall show it
    return True, t(f"ledger_done_{mode}", lang, ref=ref)
