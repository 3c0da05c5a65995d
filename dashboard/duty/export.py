"""The duty page's 导出 / Export link: the open cases of the view as CSV (``GET /export/cases.csv``).

The link carries the view's URL query (filters and language); a small clientside step keeps it in step
with the URL as the filters change. A viewer who may not export (a wall, or anybody while sign-in is
off) gets the link hidden and without a target; the route refuses them anyway.
"""

from __future__ import annotations

from dash import html

from data.case_filter import CaseFilter

from ..export import may_export
from ..i18n import t
from ..page import PageContext

# Output duty-export.href, Input gridcc-url.search, State duty-export.href
EXPORT_HREF = """
function (search, href) {
    var base = (href || '').split('?')[0];
    return base ? base + (search || '') : window.dash_clientside.no_update;
}
"""


def export_link(ctx: PageContext, view: CaseFilter) -> html.A:
    allowed = may_export()
    return html.A(
        t("duty_export", ctx.lang),
        id="duty-export",
        href=ctx.urls.export(view.search(ctx.query)) if allowed else "",
        title=t("duty_export_title", ctx.lang),
        className="duty-export",
        hidden=not allowed,
    )
