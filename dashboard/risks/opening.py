"""The ledger dialog's server callbacks: open it in a mode (新增, or a row's 编辑 / 转交 / 销号 on a risk
looked up again in the viewer's scope, its fields filled), and the street → community → grid choices
within the scope (a place already chosen under the new parent is kept: opening on a risk sets all three)."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl

from dash import callback_context, no_update
from sqlalchemy import select

from data.auth import scope_of
from data.desk import place_options
from data.ledger import local_day
from data.models import Risk

from ..i18n import lang_from_query, t
from ..services import services
from . import ids
from .form import new_token, places
from .submit import manager

TITLES = {
    "create": "ledger_form_create",
    "edit": "ledger_form_edit",
    "assign": "ledger_form_assign",
    "close": "ledger_form_close",
}
FIELD_IDS = tuple(ids.FIELDS)


def lang_of(search: str | None) -> tuple[str, dict[str, str]]:
    query = dict(parse_qsl((search or "").lstrip("?")))
    return lang_from_query(query, services().settings.language), query


def _values_of(risk: Risk | None, mode: str) -> list[Any]:
    """The fields' values (in :data:`FIELD_IDS` order) to open the dialog with."""
    if risk is None:
        return [None, None, "", None, None, None, "", "", "", "", "", "", "", ""]
    street = risk.street_code
    community = risk.community_code
    return [
        risk.kind,
        risk.level,
        risk.title,
        street,
        community,
        risk.grid_code,
        local_day(risk.due_at),
        risk.measures,
        risk.description,
        risk.owner if mode != "assign" else "",
        risk.owner_person if mode != "assign" else "",
        "",
        risk.measures if mode == "close" else "",
        "",
    ]


def on_open(wanted: Any, _new: Any, search: str | None) -> list[Any]:
    """新增 or a row's 编辑 / 转交 / 销号: the dialog in that mode, filled from the risk looked up again in
    the viewer's scope (a risk outside it opens nothing)."""
    lang, _ = lang_of(search)
    trigger = callback_context.triggered_id
    user = manager()
    keep = [no_update] * (7 + len(FIELD_IDS) + 2)
    if user is None:
        return [
            no_update,
            no_update,
            no_update,
            no_update,
            no_update,
            t("ledger_err_not_permitted", lang),
            no_update,
            *keep[7:],
        ]
    scope = scope_of(user)
    if trigger == ids.NEW:
        mode, risk = "create", None
    elif isinstance(wanted, dict) and wanted.get("mode") in ("edit", "assign", "close"):
        mode = str(wanted["mode"])
        text = str(wanted.get("risk", ""))
        with services().sessions() as session:
            risk = (
                session.scalar(select(Risk).where(Risk.id == int(text), scope.clause(Risk)))
                if text.isascii() and text.isdigit() and len(text) < 12
                else None
            )
            if risk is not None:
                session.expunge(risk)
        if risk is None or risk.closed_at is not None:
            return [no_update] * 5 + [no_update, t("ledger_err_not_found", lang), *keep[7:]]
    else:
        return keep
    communities: list[dict[str, str]] = []
    grids: list[dict[str, str]] = []
    if risk is not None and risk.street_code:
        with services().sessions() as session:
            communities = places(place_options(session, scope, risk.street_code))
            if risk.community_code:
                grids = places(place_options(session, scope, risk.community_code))
    title = t(TITLES[mode], lang) + (f" · {risk.ref}" if risk is not None else "")
    mode_data = {"mode": mode, "risk": risk.id if risk is not None else None}
    return [
        False,
        f"desk-overlay risks-dialog mode-{mode}",
        title,
        mode_data,
        new_token(),
        "",
        no_update,
        *_values_of(risk, mode),
        communities,
        grids,
    ]


def _choices(parent: Any) -> list[dict[str, str]]:
    user = manager()
    code = parent if isinstance(parent, str) and parent.isascii() and parent.isdigit() else ""
    if user is None or len(code) not in (9, 12):
        return []
    with services().sessions() as session:
        return places(place_options(session, scope_of(user), code))


def _under(child: Any, parent: Any) -> bool:
    return isinstance(child, str) and isinstance(parent, str) and bool(parent) and child.startswith(parent)


def on_street(street: Any, community: Any, grid: Any) -> tuple[Any, Any, Any, Any]:
    """A street chosen: its communities; a community (and grid) already under it is kept (the dialog
    opened on a risk sets all three at once)."""
    if _under(community, street):
        return _choices(street), community, _choices(community), grid if _under(grid, community) else None
    return _choices(street), None, [], None


def on_community(community: Any, grid: Any) -> tuple[Any, Any]:
    return _choices(community), grid if _under(grid, community) else None
