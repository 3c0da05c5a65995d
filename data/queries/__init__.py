"""The queries behind the screens. Stable signatures — the dashboard is built on these.

Conventions: every function takes a ``Session`` and an :class:`~data.scope.AreaScope` first; times are
timezone-aware (naive ones raise ``ValueError``); periods are half-open ``[start, end)``; ``now`` is
always passed in (no query reads the clock). Results are frozen dataclasses (no ORM objects), with
codes beside their zh-CN labels (:func:`label` gives English). Rates are floats in [0, 1] or None when
the denominator is zero (:func:`format_rate` shows None as ``—``). Write functions flush; the caller
commits (``with data.db.transaction(factory) as session: ...``).

Periods (Asia/Shanghai by default)::

    period_today(now, tz="Asia/Shanghai") -> Period(start, end)
    period_year(now, tz="Asia/Shanghai") -> Period(start, end)

KPIs (:mod:`.kpis`)::

    kpis(session, scope, start, end, now) -> Kpis
        received 受理数, closed, closure_rate 办结率, judged/on_time/on_time_rate 按期办结率,
        rated/satisfied/satisfaction_rate 满意率 (满意 + 基本满意), satisfied_strict_rate (满意 only),
        open 在办 (now), overdue 超期 (now), mean_handling_hours

Rankings, worst first (:mod:`.rankings`)::

    street_ranking(session, scope, start, end, now) -> list[StreetRank]
    department_ranking(session, scope, start, end, now) -> list[DepartmentRank]

Charts (:mod:`.charts`)::

    cases_by_category(session, scope, start, end) -> list[CategoryCount]   # top-level categories
    daily_trend(session, scope, now, tz="Asia/Shanghai", days=30) -> list[TrendPoint]  # zero-filled

Class cases 类案 (:mod:`.hotspots`)::

    hotspots(session, scope, now, days=30, radius_m=300.0, min_count=3) -> list[Hotspot]
    find_hotspot(session, scope, now, key, days=30) -> Hotspot | None   # by Hotspot.key, as it stands now
    hotspot_cases(session, scope, hotspot, now) -> list[CaseRow]         # the cases behind it

Overdue drill-down (:mod:`.drilldown`)::

    overdue_by_unit(session, scope, parent_code, now) -> list[UnitCount]
    overdue_cases(session, scope, unit_code, now, limit=200) -> list[CaseRow]

Duty table and case page (:mod:`.cases`)::

    open_cases(session, scope, filters=None, limit=5000, *, now=None, tz=...) -> list[CaseRow]
    case_detail(session, scope, case_id, viewer_may_see_personal=False, *, now=None) -> CaseDetail | None
    street_options(session, scope) -> list[Option]
    place_options(session, scope, parent) -> list[Option]  (a street's communities, a community's grids)
    category_options(session, scope) -> list[Option]
    department_options(session, scope) -> list[Option]
    status_options() -> list[str]  (codes)

Alerts (:mod:`.alerts`)::

    active_alerts(session, scope, now) -> list[AlertRow]   # with escalated/escalated_at, raised_at
    escalated_alerts(session, scope, now) -> list[AlertRow]  # escalated and still unacknowledged
    alert_history(session, scope, start, end, page=1, page_size=50) -> HistoryPage
    acknowledge_alert(session, scope, alert_id, actor, now) -> bool
    ticker(session, scope, now, limit=20) -> list[TickerItem]

Feeds (:mod:`.feeds`)::

    feed_health(session, scope, now, stale_after_polls) -> list[FeedHealthRow]
    quarantined(session, scope, limit=100, feed_name=None, raw_chars=500) -> list[QuarantineRow]
    quarantine_record(session, record_id, raw_chars) -> QuarantineRow | None
    feeds_in_scope(session, scope) -> frozenset[str]  (the feeds with a record in the area)

Grid force 网格力量 (:mod:`.staff`)::

    grid_force(session, scope) -> GridForce   # per street: grids, workers, chiefs, branches, gaps

Risks (:mod:`.risks`)::

    risks(session, scope, now, include_closed=False, full_phones=False) -> list[RiskRow]
    overdue_risks(session, scope, now, full_phones=False) -> list[RiskRow]   # for /overdue and the wall
    risk_counts(session, scope, now) -> list[RiskKindCount]   # open / overdue / high per kind

The ledger is written through :mod:`data.ledger` (create, edit, reassign, close 销号; import, export).
"""

from ..scope import AreaScope
from .alerts import (
    AckRow,
    AlertEventRow,
    AlertRow,
    CoveredGrid,
    GridWorker,
    HistoryPage,
    HistoryRow,
    TickerItem,
    acknowledge_alert,
    active_alerts,
    alert_history,
    escalated_alerts,
    ticker,
)
from .cases import (
    CaseDetail,
    EventRow,
    Option,
    StaffRow,
    UnitRef,
    case_detail,
    category_options,
    department_options,
    open_cases,
    place_options,
    status_options,
    street_options,
)
from .charts import CategoryCount, TrendPoint, cases_by_category, daily_trend
from .common import NAMED_PERIODS, CaseRow, Period, period_named, period_today, period_year
from .drilldown import UnitCount, overdue_by_unit, overdue_cases
from .feeds import FeedHealthRow, QuarantineRow, feed_health, feeds_in_scope, quarantine_record, quarantined
from .hotspots import Hotspot, find_hotspot, hotspot_cases, hotspots
from .kpis import Kpis, kpis
from .labels import DASH, format_rate, label
from .rankings import DepartmentRank, StreetRank, department_ranking, street_ranking
from .risks import RiskKindCount, RiskRow, overdue_risks, risk_counts, risks
from .staff import GridForce, StreetForce, grid_force

__all__ = [
    "DASH",
    "NAMED_PERIODS",
    "AckRow",
    "AlertEventRow",
    "AlertRow",
    "AreaScope",
    "CaseDetail",
    "CaseRow",
    "CategoryCount",
    "CoveredGrid",
    "DepartmentRank",
    "EventRow",
    "FeedHealthRow",
    "GridForce",
    "GridWorker",
    "HistoryPage",
    "HistoryRow",
    "Hotspot",
    "Kpis",
    "Option",
    "Period",
    "QuarantineRow",
    "RiskKindCount",
    "RiskRow",
    "StaffRow",
    "StreetForce",
    "StreetRank",
    "TickerItem",
    "TrendPoint",
    "UnitCount",
    "UnitRef",
    "acknowledge_alert",
    "active_alerts",
    "alert_history",
    "escalated_alerts",
    "case_detail",
    "cases_by_category",
    "category_options",
    "daily_trend",
    "department_options",
    "department_ranking",
    "feed_health",
    "find_hotspot",
    "format_rate",
    "grid_force",
    "hotspot_cases",
    "hotspots",
    "kpis",
    "label",
    "open_cases",
    "overdue_by_unit",
    "period_named",
    "overdue_cases",
    "overdue_risks",
    "period_today",
    "period_year",
    "quarantined",
    "quarantine_record",
    "feeds_in_scope",
    "risk_counts",
    "risks",
    "place_options",
    "status_options",
    "street_options",
    "street_ranking",
    "ticker",
]
