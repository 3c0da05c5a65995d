"""The duty officer's table of open cases: an AG Grid (virtual scrolling, sortable and filterable columns).

Rows are plain dicts of strings and numbers; feed text (address, case number) is shown by AG Grid's
default text renderer, never through an HTML cell renderer. Overdue rows carry a row class and a red
"超期" cell; the supervision card a yellow or red cell.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import dash_ag_grid as dag

from data.queries import CaseRow, label
from data.text import duration, labels, local_time

from ..i18n import t

GRID_ID = "duty-grid"


def late_text(hours: float | None, lang: str) -> str:
    """``超期 2天3小时`` / ``剩 5小时`` from hours past the deadline (negative: hours left)."""
    if hours is None:
        return ""
    span = duration(hours * 3600, lang, "compact")
    return t("duty_late" if hours > 0 else "duty_left", lang, span=span)


def case_row(row: CaseRow, lang: str, tz: str) -> dict[str, Any]:
    """One table row (strings and numbers only)."""
    return {
        "id": str(row.id),  # AG Grid row ids are strings
        "number": row.external_id,
        "category": row.category_name or t("uncategorised", lang),
        "address": row.address or row.title,
        "street": row.street_name,
        "status": label("status", row.status, lang),
        "accepted": local_time(row.accepted_at or row.requested_at, tz),
        "deadline": local_time(row.deadline_at, tz),
        "late_hours": round(row.hours_late, 1) if row.hours_late is not None else None,
        "late": late_text(row.hours_late, lang),
        "overdue": row.overdue,
        "due_soon": row.due_soon,
        "department": row.department_name,
        "level": label("escalation", row.escalation_level, lang),
        "supervision": row.supervision,
        "card": label("supervision", row.supervision, lang),
        # where the map draws it: its own point, or its grid's / community's label point ("approx")
        "lon": row.map_lon,
        "lat": row.map_lat,
        "approx": row.approx or "",
    }


def case_rows(rows: Iterable[CaseRow], lang: str, tz: str) -> list[dict[str, Any]]:
    return [case_row(r, lang, tz) for r in rows]


def column_defs(lang: str) -> list[dict[str, Any]]:
    late_rules = {"duty-cell-late": "params.data.overdue", "duty-cell-soon": "params.data.due_soon"}
    card_rules = {
        "duty-card-yellow": "params.data.supervision == 'yellow'",
        "duty-card-red": "params.data.supervision == 'red'",
    }
    short_time = {"function": "params.value ? params.value.slice(5) : ''"}  # MM-DD HH:mm; sorts by the year
    return [
        {
            "field": "number",
            "headerName": t("duty_col_number", lang),
            "minWidth": 196,
            "tooltipField": "number",
        },
        {
            "field": "category",
            "headerName": t("duty_col_category", lang),
            "minWidth": 96,
            "tooltipField": "category",
        },
        {
            "field": "address",
            "headerName": t("duty_col_address", lang),
            "minWidth": 120,
            "flex": 2,
            "tooltipField": "address",
        },
        {"field": "status", "headerName": t("duty_col_status", lang), "minWidth": 84},
        {
            "field": "accepted",
            "headerName": t("duty_col_accepted", lang),
            "minWidth": 116,
            "cellDataType": "text",
            "valueFormatter": short_time,
        },
        {
            "field": "deadline",
            "headerName": t("duty_col_deadline", lang),
            "minWidth": 116,
            "cellDataType": "text",
            "valueFormatter": short_time,
        },
        {
            "field": "late_hours",
            "headerName": t("duty_col_late", lang),
            "minWidth": 168,  # "超期 273天12小时" whole: the number the officer acts on
            "filter": "agNumberColumnFilter",
            # the hours as text, from a number only (no feed text here)
            "valueFormatter": {"function": "params.data ? params.data.late : ''"},
            "cellClassRules": late_rules,
            "sort": "desc",
        },
        {
            "field": "department",
            "headerName": t("duty_col_department", lang),
            "minWidth": 140,
            "tooltipField": "department",
        },
        {"field": "level", "headerName": t("duty_col_level", lang), "minWidth": 60},
        {
            "field": "card",
            "headerName": t("duty_col_card", lang),
            "minWidth": 100,  # "红牌督办" / "Red card" whole
            "cellClassRules": card_rules,
        },
    ]


def case_grid(rows: list[dict[str, Any]], lang: str) -> dag.AgGrid:
    options: dict[str, Any] = {
        "rowBuffer": 20,
        "rowSelection": {"mode": "singleRow", "checkboxes": False, "enableClickSelection": True},
        "animateRows": False,
        "rowHeight": 44,
        "headerHeight": 46,
        "floatingFiltersHeight": 40,
        "suppressCellFocus": True,
        "tooltipShowDelay": 300,  # the whole text of a cut cell (AG Grid's tooltip shows it as text)
    }
    options["localeText"] = labels("grid_locale", lang)  # AG Grid's own words (filters, "no rows")
    return dag.AgGrid(
        id=GRID_ID,
        rowData=rows,
        columnDefs=column_defs(lang),
        defaultColDef={"sortable": True, "filter": True, "floatingFilter": True, "resizable": True},
        getRowId="params.data.id",
        rowClassRules={"duty-row-overdue": "params.data.overdue"},
        dashGridOptions=options,
        columnSize="sizeToFit",
        className="duty-grid",
        style={"height": "100%", "width": "100%"},
    )
