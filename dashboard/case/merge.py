"""The case page's 合并 line: a case merged into another (one matter, several channels) names it, with
撤销合并 for an account that may act on cases; the primary names the cases merged into it. The undo
callback looks the case up again in the account's scope (:func:`data.merge.unmerge_case`, audited)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl

from dash import Input, Output, State, dcc, html, no_update
from flask import request
from sqlalchemy import select
from sqlalchemy.orm import Session

from data.auth import CaseNotFound, NotPermitted, Permission, may
from data.db import transaction
from data.merge import MergeRefused, unmerge_case
from data.models import Case, CaseMerge
from data.text import lang_from_query
from layers import versions

from ..auth import auth_required, current_user
from ..i18n import t
from ..redis_or import redis_or
from ..services import services
from ..urls import Urls

UNDO_ID = "case-unmerge"
MESSAGE_ID = "case-unmerge-msg"
CASE_STORE = "case-unmerge-case"


def _may_undo() -> bool:
    user = current_user() if auth_required() else None
    return user is not None and may(user.role, Permission.ACT_ON_CASE)


def merge_line(session: Session, case_id: int, urls: Urls, lang: str) -> html.Div | None:
    """None when the case is in no merge."""
    into = session.execute(
        select(CaseMerge.primary_id, Case.external_id)
        .join(Case, Case.id == CaseMerge.primary_id)
        .where(CaseMerge.case_id == case_id)
    ).one_or_none()
    if into is not None:
        children: list[Any] = [
            html.Span(t("merge_line_into", lang)),
            dcc.Link(into.external_id, href=urls.case(into.primary_id)),
        ]
        if _may_undo():
            children += [
                html.Button(
                    t("merge_undo", lang), id=UNDO_ID, n_clicks=0, type="button", className="merge-undo"
                ),
                html.Span(id=MESSAGE_ID, className="merge-msg", role="status"),
                dcc.Store(id=CASE_STORE, data=case_id),
            ]
        return html.Div(children, className="case-card case-merge")
    merged = session.execute(
        select(CaseMerge.case_id, Case.external_id)
        .join(Case, Case.id == CaseMerge.case_id)
        .where(CaseMerge.primary_id == case_id)
        .order_by(CaseMerge.case_id)
    ).all()
    if not merged:
        return None
    links: list[Any] = []
    for i, m in enumerate(merged):
        links += ([t("list_sep", lang)] if i else []) + [dcc.Link(m.external_id, href=urls.case(m.case_id))]
    return html.Div([html.Span(t("merge_line_primary", lang)), *links], className="case-card case-merge")


def on_undo(n: Any, case_id: Any, search: str | None) -> Any:
    if not n:
        return no_update
    svc = services()
    lang = lang_from_query(dict(parse_qsl((search or "").lstrip("?"))), svc.settings.language)
    user = current_user() if auth_required() else None
    if user is None or not isinstance(case_id, int) or isinstance(case_id, bool):
        return t("act_not_permitted", lang) if user is None else t("act_not_found", lang)
    try:
        with transaction(svc.sessions) as session:
            unmerge_case(session, user, case_id, datetime.now(UTC), request.remote_addr or "")
    except CaseNotFound:
        return t("act_not_found", lang)
    except NotPermitted:
        return t("act_not_permitted", lang)
    except MergeRefused as refused:
        return t(refused.code, lang)
    redis_or(None, lambda: versions.bump(svc.redis, ["cases", "kpis"]))
    return t("merge_undone", lang)


def register(app: Any) -> None:
    app.callback(
        Output(MESSAGE_ID, "children"),
        Input(UNDO_ID, "n_clicks"),
        State(CASE_STORE, "data"),
        State("gridcc-url", "search"),
        prevent_initial_call=True,
    )(on_undo)
