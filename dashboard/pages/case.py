"""``/cases/<id>``: one case — its facts, its place on a small map, its grid's people, its timeline.

The case is read through :func:`data.queries.case_detail` with the viewer's scope: a case outside it
(or unknown) shows "not found" and nothing of its data.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from dash import html
from sqlalchemy import select
from sqlalchemy.orm import Session

from data.models import Category, Department
from data.queries import CaseDetail, case_detail

from ..components.case_chrome import lang_switch, top_bar
from ..components.case_facts import Names, badges, facts, link, place_path, staff, text_block
from ..components.case_format import data_attrs
from ..components.case_map import case_map
from ..components.case_timeline import timeline
from ..i18n import t
from . import Page, PageContext


def _case_id(raw: str | None) -> int | None:
    if raw is None or not raw.isdigit() or len(raw) > 12:
        return None
    return int(raw)


def _names(session: Session, detail: CaseDetail, lang: str) -> Names:
    row = detail.row
    if lang != "en":
        return Names(row.category_name, row.top_category_name, row.department_name)
    category_en = dict(session.execute(select(Category.code, Category.name_en)).tuples().all())
    parent = session.scalar(select(Category.parent_code).where(Category.code == row.category_code))
    department_en = session.scalar(select(Department.name_en).where(Department.code == row.department_code))
    category = category_en.get(row.category_code or "") or row.category_name
    top = category_en.get(parent or row.category_code or "") or row.top_category_name
    return Names(category, top, department_en or row.department_name)


def not_found(ctx: PageContext, raw_id: str) -> html.Div:
    path = f"/cases/{raw_id}"
    switch = lang_switch(ctx.base_path, path, ctx.query, ctx.lang)
    back = link(ctx.base_path, "/", ctx.lang)
    return html.Div(
        [
            top_bar(t("case_not_found", ctx.lang), ctx.lang, back, "back_to_wall", switch),
            html.Div(
                html.P(t("case_not_found_hint", ctx.lang, id=raw_id[:20]), className="case-not-found-text"),
                className="case-not-found",
            ),
        ],
        className="gridcc-page case-page",
    )


def layout(ctx: PageContext) -> Any:
    raw_id = ctx.path_params.get("id", "")
    case_id = _case_id(raw_id)
    if case_id is None:
        return not_found(ctx, raw_id)
    now = datetime.now(UTC)
    tz = ctx.settings.timezone
    with ctx.services.sessions() as session:
        detail = case_detail(session, ctx.scope, case_id, now=now)
        if detail is None:
            return not_found(ctx, raw_id)
        names = _names(session, detail, ctx.lang)
    row = detail.row
    path = f"/cases/{case_id}"
    title = [
        html.Span(t("case_title", ctx.lang, id=case_id), className="case-no"),
        html.Span(names.category, className="case-category"),
        *badges(detail, ctx.lang),
    ]
    back = link(ctx.base_path, "/", ctx.lang)
    return html.Div(
        [
            top_bar(
                title, ctx.lang, back, "back_to_wall", lang_switch(ctx.base_path, path, ctx.query, ctx.lang)
            ),
            html.Div(
                [
                    html.Div(
                        [
                            facts(detail, names, now, ctx.lang, tz),
                            text_block(detail, ctx.lang),
                            html.Div(
                                [
                                    html.H2(t("case_timeline", ctx.lang)),
                                    timeline(detail.events, ctx.lang, tz),
                                ],
                                className="case-card",
                            ),
                        ],
                        className="case-main",
                    ),
                    html.Div(
                        [
                            case_map(detail, ctx.lang, ctx.settings.tile_url),
                            html.Div(
                                [place_path(detail, ctx.base_path, ctx.lang), staff(detail, ctx.lang)],
                                className="case-card case-where",
                            ),
                        ],
                        className="case-side",
                    ),
                ],
                className="case-body",
                **data_attrs(case_id=str(row.id)),
            ),
        ],
        className="gridcc-page case-page",
    )


PAGE = Page(path="/cases/<id>", name="case", title_key="case_no", layout=layout)
