"""网格力量: the grid force per street — grids, workers, chiefs, party branches — with the gaps of 一格一员
flagged (grids with no worker, workers over several grids) and listed below (``?tab=force``).
Phones are masked unless the viewer's role may see them."""

from __future__ import annotations

from typing import Any

from dash import html
from sqlalchemy.orm import Session

from data.queries.force import MANY_GRIDS, empty_grids, force_by_street, spread_workers
from data.scope import AreaScope

from ..components.format import as_attrs
from ..i18n import t


def _num(n: int, flag: bool = False) -> html.Td:
    return html.Td(f"{n:,}", className="force-num" + (" is-flagged" if flag and n else ""))


def force_view(session: Session, scope: AreaScope, lang: str, full_phones: bool) -> html.Div:
    streets = force_by_street(session, scope)
    empty = empty_grids(session, scope)
    spread = spread_workers(session, scope, full_phones=full_phones)
    total = [sum(getattr(s, k) for s in streets) for k in ("grids", "workers", "chiefs", "branches")]
    summary = t(
        "force_summary",
        lang,
        grids=f"{total[0]:,}",
        workers=f"{total[1]:,}",
        chiefs=f"{total[2]:,}",
        branches=f"{total[3]:,}",
    )
    head = html.Tr(
        [
            html.Th(t(k, lang))
            for k in (
                "force_col_street",
                "force_col_grids",
                "force_col_workers",
                "force_col_chiefs",
                "force_col_branches",
                "force_col_empty",
                "force_col_spread",
            )
        ]
    )
    rows = [
        html.Tr(
            [
                html.Td(s.name),
                _num(s.grids),
                _num(s.workers),
                _num(s.chiefs),
                _num(s.branches),
                _num(s.empty_grids, True),
                _num(s.spread_workers, True),
            ],
            **as_attrs({"data-street": s.code}),
        )
        for s in streets
    ]
    empty_list = (
        html.Ul(
            [html.Li(f"{g.street_name} · {g.community_name} · {g.name}（{g.code}）") for g in empty],
            className="force-list",
        )
        if empty
        else html.Div(t("force_none_empty", lang), className="overdue-empty")
    )
    spread_list = (
        html.Ul(
            [
                html.Li(
                    t(
                        "force_spread_item",
                        lang,
                        name=w.name,
                        phone=w.phone,
                        n=w.grids,
                        grids=w.grid_names,
                        street=w.street_name,
                    )
                )
                for w in spread
            ],
            className="force-list",
        )
        if spread
        else html.Div(t("force_none_spread", lang), className="overdue-empty")
    )
    return html.Div(
        [
            html.P(summary, className="force-summary", id="force-summary"),
            html.Table([html.Thead(head), html.Tbody(rows)], className="risks-table force-table"),
            html.Div(
                [
                    html.Div(
                        [
                            html.H2(t("force_empty_title", lang, n=len(empty)), className="duty-h2"),
                            empty_list,
                        ],
                        className="force-panel",
                        id="force-empty",
                    ),
                    html.Div(
                        [
                            html.H2(
                                t("force_spread_title", lang, n=len(spread), m=MANY_GRIDS),
                                className="duty-h2",
                            ),
                            spread_list,
                        ],
                        className="force-panel",
                        id="force-spread",
                    ),
                ],
                className="force-lists",
            ),
        ],
        className="force-view",
    )


def force_panel(session: Session, scope: AreaScope, lang: str, full_phones: bool) -> Any:
    return html.Div(force_view(session, scope, lang, full_phones), className="risks-force")
