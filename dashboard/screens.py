"""The list of screens the app serves, in order (the first whose path matches wins).

Only the app factory imports this module; a screen imports :mod:`dashboard.page`, never the list.
"""

from __future__ import annotations

from dataclasses import replace

from .alerts.page import PAGE as ALERTS
from .audit.page import PAGE as AUDIT
from .calls.page import PAGE as CALLS
from .case.page import PAGE as CASE
from .duty.page import PAGE as DUTY
from .feeds.page import PAGE as FEEDS
from .hotspots.page import DETAIL as HOTSPOT
from .hotspots.page import LIST as HOTSPOTS
from .map.page import PAGE as MAP
from .overdue.page import PAGE as OVERDUE
from .page import Page
from .reports.page import PAGE as REPORTS
from .risks.page import PAGE as RISKS
from .wall.page import PAGE as WALL


def default_pages() -> list[Page]:
    return [
        WALL,
        replace(MAP, path="/map"),
        CASE,
        FEEDS,
        DUTY,
        OVERDUE,
        RISKS,
        HOTSPOTS,
        HOTSPOT,
        ALERTS,
        REPORTS,
        AUDIT,
        CALLS,
    ]
