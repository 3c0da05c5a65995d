"""The case page keeps its loop current: after an action of the panel (the ``act-done`` store) and when
the ``cases`` or ``loop`` version moves (a delivery, a department's 报到, a feed's update: the long poll
of ``components/follow.py`` hears it at once), the timeline and the "指令与报到" card are read again
through the viewer's scope — and sent only when something changed."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl

from dash import Input, Output, State, html, no_update

from data.queries import case_detail
from data.scope import AreaScope

from ..act import ids as act_ids
from ..auth import phone_view
from ..components import follow
from ..i18n import lang_from_query
from ..personal import masked_rows
from ..scope import current_scope
from ..services import services
from .loop import LOOP_ID, Sent, load_loop, loop_card_body
from .sources import source_names
from .supervise import TIMELINE_ID
from .timeline import timeline

FOLLOW_PREFIX = "case"  # case-versions, case-moved, case-tick (components/follow.py)
FOLLOW = ("cases", "loop")
CASE_ID = "case-page-case"
SEEN_ID = "case-loop-seen"


def signature(events: int, loop: list[Sent]) -> str:
    """What changes when the timeline or the card would: events, instructions, states."""
    states = ",".join(f"{c.department_code}={c.state}" for s in loop for c in s.called)
    return f"{events}|{len(loop)}|{states}"


def current(scope: AreaScope, case_id: int, lang: str) -> tuple[html.Div, html.Div, str] | None:
    """The timeline, the card's body and their signature; None when the case is not in ``scope``."""
    svc = services()
    policy = phone_view()
    with svc.sessions() as session:
        detail = case_detail(session, scope, case_id, now=datetime.now(UTC))
        if detail is None:
            return None
        sources = source_names(session, lang)
        loop = load_loop(session, scope, case_id, policy)
    events = masked_rows(detail.events, ("detail", "actor"), policy)
    tz = svc.settings.timezone
    return (
        timeline(events, lang, tz, sources, loop),
        loop_card_body(loop, sources, tz, lang),
        signature(len(events), loop),
    )


def on_refresh(_done: Any, _moved: Any, case_id: Any, seen: Any, search: str | None) -> tuple[Any, Any, Any]:
    if isinstance(case_id, bool) or not isinstance(case_id, int) or not 0 < case_id < 2**31:
        return no_update, no_update, no_update
    lang = lang_from_query(dict(parse_qsl((search or "").lstrip("?"))), services().settings.language)
    now = current(current_scope(), case_id, lang)
    if now is None or now[2] == seen:
        return no_update, no_update, no_update
    return now


def register_refresh(app: Any) -> None:
    follow.register(app, FOLLOW_PREFIX, FOLLOW)
    app.callback(
        Output(TIMELINE_ID, "children", allow_duplicate=True),
        Output(LOOP_ID, "children"),
        Output(SEEN_ID, "data"),
        Input(act_ids.DONE, "data"),
        Input(f"{FOLLOW_PREFIX}-moved", "data"),
        State(CASE_ID, "data"),
        State(SEEN_ID, "data"),
        State("gridcc-url", "search"),
        prevent_initial_call=True,
    )(on_refresh)
