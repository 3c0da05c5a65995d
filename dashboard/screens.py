"""The list of screens the app serves, in order (the first whose path matches wins).

Only the app factory imports this module; a screen imports :mod:`dashboard.page`, never the list.
"""

from __future__ import annotations

from dataclasses import replace

from .audit.page import PAGE as AUDIT
from .calls.page import PAGE as CALLS
from .case.page import PAGE as CASE
from .duty.page import PAGE as DUTY
from .feeds.page import PAGE as FEEDS
from .map.page import PAGE as MAP
from .overdue.page import PAGE as OVERDUE
from .page import Page
from .wall.page import PAGE as WALL


def default_pages() -> list[Page]:
    return [WALL, replace(MAP, path="/map"), CASE, FEEDS, DUTY, OVERDUE, AUDIT, CALLS]
