"""The ids of the action panel's components (one panel per page: plain string ids)."""

from __future__ import annotations

PANEL = "act"  # the case page's card (and its anchor, ``/cases/<id>#act``)
MODAL = "act-modal"  # /duty's and /overdue's overlay
BODY = "act-body"  # what the overlay shows: the form for one case
CLOSE = "act-close"
FORM = "act-form"
CASE = "act-case"
KIND = "act-kind"
DEPARTMENT = "act-department"
HOURS = "act-hours"
LEAD = "act-lead"
HELPERS = "act-helpers"
URGENCY = "act-urgency"
REPLY = "act-reply"
REASON = "act-reason"
TEXT = "act-text"
SUBMIT = "act-submit"
TOKEN = "act-token"  # noqa: S105 (an id, not a secret) one per form shown: a second 发出 with it (a double click) is refused
MESSAGE = "act-msg"
DONE = "act-done"  # written after an action succeeded: the page refreshes what shows the case
OPEN_BUTTON = "act-open"  # pattern-matched buttons in re-rendered rows: {"type", "case", "kind"}
OPEN_REQUEST = "act-open-request"
