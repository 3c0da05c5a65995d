"""The 合并 panel of ``/hotspots``: groups of cases that look like one matter reported through several
channels (:func:`data.merge.suggestions`), each with its cases and a 确认合并 button for an account that
may act on cases. The callback takes the ids the browser sends as untrusted: :func:`data.merge.merge_cases`
finds them again in the account's own scope (CSRF like every callback; audited)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl

from dash import ALL, Input, Output, State, callback_context, dcc, html, no_update
from flask import request
from sqlalchemy import select

from data.auth import CaseNotFound, NotPermitted, Permission, may
from data.db import transaction
from data.merge import MergeRefused, Suggestion, merge_cases, suggestions
from data.models import Case
from data.scope import AreaScope
from data.text import lang_from_query
from layers import versions

from ..auth import auth_required, current_user
from ..components.format import as_attrs
from ..i18n import t
from ..personal import shown, text_mode
from ..redis_or import redis_or
from ..services import services
from ..urls import Urls

MESSAGE_ID = "hotspot-merge-msg"


def may_merge() -> bool:
    if not auth_required():
        return False
    user = current_user()
    return user is not None and may(user.role, Permission.ACT_ON_CASE)


def _cases(session: Any, ids: Sequence[int]) -> dict[int, Any]:
    rows = session.execute(
        select(Case.id, Case.external_id, Case.title, Case.feed_name).where(Case.id.in_(list(ids)))
    ).all()
    return {r.id: r for r in rows}


def merge_panel(
    session: Any, scope: AreaScope, urls: Urls, lang: str, now: datetime | None = None
) -> html.Div:
    """The suggested groups (nothing for an account that may not merge)."""
    if not may_merge():
        return html.Div()
    groups = suggestions(session, scope, now or datetime.now(UTC))
    mode = text_mode()
    body: list[Any] = [html.H2(t("merge_title", lang), className="merge-title")]
    if not groups:
        body.append(html.P(t("merge_none", lang), className="merge-none"))
    rows = _cases(session, [i for g in groups for i in g.case_ids]) if groups else {}
    for i, group in enumerate(groups):
        body.append(_group(i, group, rows, urls, lang, mode))
    body.append(html.Div(id=MESSAGE_ID, className="merge-msg", role="status"))
    return html.Div(body, className="merge-panel")


def _group(i: int, group: Suggestion, rows: dict[int, Any], urls: Urls, lang: str, mode: str) -> html.Div:
    items = []
    for case_id in group.case_ids:
        r = rows.get(case_id)
        if r is None:
            continue
        items.append(
            html.Li(
                [
                    dcc.Link(shown(r.external_id, mode), href=urls.case(case_id), className="merge-case"),
                    html.Span(f" {r.feed_name} · ", className="merge-feed"),
                    html.Span(shown(r.title, mode), className="merge-case-title"),
                ]
            )
        )
    return html.Div(
        [
            html.Ul(items, className="merge-cases"),
            html.Div(t("merge_channels", lang, feeds="、".join(group.feeds)), className="merge-channels"),
            html.Button(
                t("merge_confirm", lang),
                id={"type": "merge-confirm", "index": i},
                n_clicks=0,
                type="button",
                className="merge-confirm",
            ),
            dcc.Store(id={"type": "merge-ids", "index": i}, data=list(group.case_ids)),
        ],
        className="merge-group",
        **as_attrs({"data-primary": str(group.primary_id)}),
    )


def on_confirm(clicks: list[Any], groups: list[Any], search: str | None) -> Any:
    fired = callback_context.triggered_id
    if not isinstance(fired, dict) or not any(clicks or []):
        return no_update
    index = fired.get("index")
    svc = services()
    lang = lang_from_query(dict(parse_qsl((search or "").lstrip("?"))), svc.settings.language)
    user = current_user() if auth_required() else None
    if user is None:
        return t("act_not_permitted", lang)
    ids = groups[index] if isinstance(index, int) and 0 <= index < len(groups or []) else None
    if not isinstance(ids, list):
        return t("merge_bad_group", lang)
    now = datetime.now(UTC)
    try:
        with transaction(svc.sessions) as session:
            primary, others = merge_cases(session, user, ids, now, request.remote_addr or "")
            number = session.scalar(select(Case.external_id).where(Case.id == primary)) or str(primary)
    except CaseNotFound:
        return t("act_not_found", lang)
    except NotPermitted:
        return t("act_not_permitted", lang)
    except MergeRefused as refused:
        return t(refused.code, lang)
    redis_or(None, lambda: versions.bump(svc.redis, ["cases", "kpis"]))
    return t("merge_done", lang, primary=number, n=len(others))


def register(app: Any) -> None:
    app.callback(
        Output(MESSAGE_ID, "children"),
        Input({"type": "merge-confirm", "index": ALL}, "n_clicks"),
        State({"type": "merge-ids", "index": ALL}, "data"),
        State("gridcc-url", "search"),
        prevent_initial_call=True,
    )(on_confirm)
