"""The duty page's search box: one query finding a case by its number, by words of its address or
description, or — for a viewer who may see personal data — by the reporter's phone (:mod:`data.search`).

The query lives in the URL (``?q=``) beside the filters, so the top bar's box on the other screens
(:mod:`dashboard.components.search_box`) lands here with it. Results are the viewer's scope only, closed
cases included, and replace the open cases in the table while the query is set. Every phone search is
audited (``search_phone``, with the masked number and the count; ``search_phone_refused`` for a role that
may not: a wall, a leader, an admin), once per search the viewer made — not on each refresh.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from dash import dcc, html
from flask import request

from data.auth import audit
from data.case_filter import CaseFilter
from data.db import transaction
from data.masking import mask_phone
from data.queries import CaseRow
from data.scope import AreaScope
from data.search import SearchResult, clean_query, phone_digits, search_cases
from data.search.query import MAX_QUERY

from ..auth.viewer import viewer_name, viewer_sees_personal
from ..i18n import t
from ..services import services

SEARCH_ID = "duty-q"


@dataclass(frozen=True)
class Found:
    rows: list[CaseRow]
    notice: str


def search_box(lang: str, query: str) -> html.Div:
    """The box (a search input that answers on Enter or when it loses focus)."""
    return html.Div(
        [
            html.Label(t("search_label", lang), htmlFor=SEARCH_ID, className="duty-period-label"),
            dcc.Input(
                id=SEARCH_ID,
                type="search",
                value=query,
                debounce=True,
                maxLength=MAX_QUERY,
                placeholder=t("search_placeholder", lang),
                autoComplete="off",
                className="duty-search-input",
            ),
        ],
        className="duty-search",
    )


def _audit_phone(result: SearchResult, now: datetime) -> None:
    digits = phone_digits(result.query) or ""
    action = "search_phone_refused" if result.refused else "search_phone"
    detail = mask_phone(digits) + ("" if result.refused else f"; {len(result.rows)} found")
    with transaction(services().sessions) as session:
        audit(session, viewer_name(), action, "case_search", detail, request.remote_addr or "", now)


def notice_of(result: SearchResult, lang: str) -> str:
    """What the page says about a search: the count and kind, none found, or the refusal."""
    if result.refused:
        return t("search_refused_phone", lang)
    kind = t(f"search_kind_{result.kind}", lang)
    if not result.rows:
        return t("search_none", lang, q=result.query, kind=kind)
    key = "search_found_more" if result.truncated else "search_found"
    return t(key, lang, q=result.query, kind=kind, n=len(result.rows))


def find(
    query: str | None,
    view: CaseFilter,
    scope: AreaScope,
    lang: str,
    now: datetime,
    *,
    audited: bool,
) -> Found | None:
    """The cases ``query`` finds in ``scope`` under the filters, or None without a query; ``audited``:
    this is the viewer's own search (a page load or the box), so a phone search is written to the audit
    log (a refresh of the same results is not)."""
    q = clean_query(query)
    if not q:
        return None
    svc = services()
    with svc.sessions() as session:
        result = search_cases(
            session,
            scope,
            q,
            may_search_phone=viewer_sees_personal(),
            phone_key=svc.settings.phone_search_key_bytes(),
            filters=view,
            now=now,
            tz=svc.settings.timezone,
        )
    if result.kind == "phone" and audited:
        _audit_phone(result, now)
    return Found(result.rows, notice_of(result, lang))
