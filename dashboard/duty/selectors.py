"""The duty view's selectors: street (the scope's real street names), its community and grid, category,
department, status (the open states, then 已办结 and 已归档), period."""

from __future__ import annotations

from typing import Any

import dash_mantine_components as dmc
from dash import html

from data.case_filter import PERIODS, CaseFilter
from data.queries import (
    category_options,
    department_options,
    place_options,
    status_options,
    street_options,
)
from data.text import label, pick

from ..components.select import search_select
from ..i18n import t
from ..page import PageContext


def _select(id_: str, label: str, placeholder: str, data: list[dict[str, str]], value: str | None) -> Any:
    shown = value if value in {d["value"] for d in data} else None
    return search_select(
        id_, data, placeholder, shown, class_name="duty-select", label=label, size="lg", z=2000
    )


def options(units: list[Any]) -> list[dict[str, str]]:
    """A community's or grid's options (its name; a grid's code too, names repeat across communities)."""
    return [
        {"value": u.value, "label": u.label if len(u.value) < 15 else f"{u.label} {u.value[-3:]}"}
        for u in units
    ]


def selectors(ctx: PageContext, view: CaseFilter) -> html.Div:
    lang = ctx.lang
    with ctx.services.sessions() as session:
        streets = street_options(session, ctx.scope)
        communities = place_options(session, ctx.scope, view.street)
        grids = place_options(session, ctx.scope, view.community)
        categories = category_options(session, ctx.scope)
        departments = department_options(session, ctx.scope)

    def name(o: Any) -> str:
        return pick(lang, o.label, o.label_en)

    by_code = {c.value: name(c) for c in categories}
    category_data = [
        {"value": c.value, "label": f"{by_code.get(c.parent, '')} · {name(c)}" if c.parent else name(c)}
        for c in categories
    ]
    periods = [{"value": p, "label": t(f"duty_period_{p}", lang)} for p in PERIODS]
    return html.Div(
        [
            _select(
                "duty-street",
                t("duty_street", lang),
                t("duty_all_streets", lang),
                [{"value": s.value, "label": s.label} for s in streets],
                view.street,
            ),
            _select(
                "duty-community",
                t("search_community", lang),
                t("search_all_communities", lang),
                options(communities),
                view.community,
            ),
            _select(
                "duty-grid-unit",
                t("search_grid", lang),
                t("search_all_grids", lang),
                options(grids),
                view.grid,
            ),
            _select(
                "duty-category",
                t("duty_category", lang),
                t("duty_all_categories", lang),
                category_data,
                view.category,
            ),
            _select(
                "duty-department",
                t("duty_department", lang),
                t("duty_all_departments", lang),
                [{"value": d.value, "label": name(d)} for d in departments],
                view.department,
            ),
            _select(
                "duty-status",
                t("duty_status", lang),
                t("duty_all_statuses", lang),
                [{"value": s, "label": label("status", s, lang)} for s in status_options()],
                view.status,
            ),
            html.Div(
                [
                    html.Label(t("duty_period", lang), className="duty-period-label"),
                    dmc.SegmentedControl(
                        id="duty-period",
                        data=periods,
                        value=view.period_name,
                        size="lg",
                        className="duty-period",
                    ),
                ],
                className="duty-period-box",
            ),
        ],
        className="duty-filters",
    )
