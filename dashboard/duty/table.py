"""The duty officer's table of open cases: an AG Grid (virtual scrolling, sortable and filterable columns).

Rows are plain dicts of strings and numbers; feed text (address, case number) is shown by AG Grid's
default text renderer, never through an HTML cell renderer. Overdue rows carry a row class and a red
"超期" cell; the supervision card a yellow or red cell.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import dash_ag_grid as dag

from data.queries import CaseRow, label

from ..i18n import t

GRID_ID = "duty-grid"


def local_time(value: datetime | None, tz: str) -> str:
    """``2025-05-01 14:30`` in the display time zone (sorts as text); "" for None."""
    if value is None:
        return ""
    return value.astimezone(ZoneInfo(tz)).strftime("%Y-%m-%d %H:%M")


def late_text(hours: float | None, lang: str) -> str:
    """``超期 2天3小时`` / ``剩 5小时`` from hours past the deadline (negative: hours left)."""
    if hours is None:
        return ""
    late = hours > 0
    total = int(abs(hours))
    days, rest = divmod(total, 24)
    if lang == "en":
        span = f"{days}d {rest}h" if days else f"{rest}h"
        return f"{span} late" if late else f"{span} left"
    span = f"{days}天{rest}小时" if days else f"{rest}小时"
    return f"超期 {span}" if late else f"剩 {span}"


def case_row(row: CaseRow, lang: str, tz: str) -> dict[str, Any]:
    """One table row (strings and numbers only)."""
    return {
        "id": str(row.id),  # AG Grid row ids are strings
        "number": row.external_id,
        "category": row.category_name,
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
            "minWidth": 64,
            "cellClassRules": card_rules,
        },
    ]


LOCALE_ZH = {
    "noRowsToShow": "没有符合条件的在办案件",
    "loadingOoo": "加载中…",
    "filterOoo": "筛选…",
    "contains": "包含",
    "notContains": "不包含",
    "equals": "等于",
    "notEqual": "不等于",
    "startsWith": "开头是",
    "endsWith": "结尾是",
    "blank": "为空",
    "notBlank": "不为空",
    "lessThan": "小于",
    "greaterThan": "大于",
    "lessThanOrEqual": "小于等于",
    "greaterThanOrEqual": "大于等于",
    "inRange": "介于",
    "andCondition": "且",
    "orCondition": "或",
    "applyFilter": "应用",
    "resetFilter": "重置",
    "clearFilter": "清除",
}


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
    if lang != "en":
        options["localeText"] = LOCALE_ZH
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
