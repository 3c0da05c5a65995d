"""``/feeds``: the feeds' health, the quarantine of rejected records, the RQ queues and workers — each
to whom may see it (``dashboard/feeds_access.py``: a wall and a one-street duty officer see the health of
the feeds of their area only, no quarantine, no worker names); an admin pauses and resumes a feed here (a
button per feed, through :func:`data.auth.feed_admin.set_feed_paused`, audited; the callback checks the
role again, and Dash's POST carries the CSRF token).

A quarantined payload is not in the page: its 查看 / View button asks for it (a request store, like the
pause buttons), and the server answers into the payload panel after checking again who asks — raw to a
role that may see personal data with the whole deployment in scope (a ``personal_view`` audit row,
``quarantine:<id>``), masked to an admin, refused to anyone else.

It refreshes when the ``feeds`` layer version changes (``components/follow.py``: the long poll fills a
store, a small clientside step passes on only a new ``feeds`` version); only then does the server re-read
the database and RQ. No DB query runs on the tick itself.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from dash import ALL, Input, Output, State, dcc, html, no_update
from flask import has_request_context, request

from data.auth import Permission, audit, may
from data.auth.feed_admin import FeedNotFound, set_feed_paused
from data.db import transaction
from data.queries import QuarantineRow, feed_health, feeds_in_scope, quarantine_record, quarantined
from data.scope import AreaScope
from layers import versions

from ..auth import auth_required, current_user, viewer_name
from ..components import follow
from ..components.chrome import lang_switch, top_bar
from ..components.click_request import register_click_request
from ..i18n import normalise, t
from ..page import Page, PageContext
from ..redis_or import REDIS_DOWN, redis_or
from ..scope import current_scope
from ..services import Services, services
from .access import FeedsAccess, feeds_access
from .push_keys import read as read_push_keys
from .push_keys import section as push_keys_section
from .queues import RqState, read_rq, rq_tables
from .tables import as_of, health_table, payload_panel, quarantine_list, summary
from .undelivered import read as read_undelivered
from .undelivered import resend as resend_undelivered
from .undelivered import section as undelivered_section

QUARANTINE_ROWS = 50
RAW_CHARS = 4000
PREVIEW_CHARS = 160
PREVIEW_READ = PREVIEW_CHARS + 40  # read a little more than shown: masked texts may be shorter

FOLLOW = ("feeds",)  # the layer versions whose move makes the page read again


def may_manage_feeds() -> bool:
    """Whether the viewer may pause and resume feeds: a signed-in admin; nobody while sign-in is off."""
    if not has_request_context() or not auth_required():
        return False
    user = current_user()
    return user is not None and may(user.role, Permission.MANAGE_FEEDS)


def _shown_health(rows: list[Any], access: FeedsAccess, names: frozenset[str] | None) -> list[Any]:
    """The health rows this viewer may see, their last errors redacted and masked."""
    kept = [r for r in rows if names is None or r.name in names]
    return [replace(r, last_error=access.text(r.last_error), note=access.text(r.note)) for r in kept]


def _shown_quarantine(rows: list[QuarantineRow], access: FeedsAccess) -> list[QuarantineRow]:
    """The quarantine rows' reasons and payload previews redacted and masked (never raw in the list)."""
    return [
        replace(
            r, reason=access.text(r.reason), raw=access.text(r.raw), external_id=access.text(r.external_id)
        )
        for r in rows
    ]


def content(svc: Services, scope: AreaScope, lang: str, tz: str, stale_after_polls: int) -> html.Div:
    """The page below its top bar, read now, as this viewer may see it (:mod:`dashboard.feeds.access`)."""
    now = datetime.now(UTC)
    access = feeds_access(scope)
    with svc.sessions() as session:
        health = feed_health(session, scope, now, stale_after_polls)
        names = feeds_in_scope(session, scope) if access.area_only else None
        rejected = (
            quarantined(session, scope, limit=QUARANTINE_ROWS, raw_chars=PREVIEW_READ)
            if access.quarantine
            else []
        )
    health = _shown_health(health, access, names)
    undelivered, departments = read_undelivered(svc, scope)
    parts: list[Any] = [
        html.Div(
            [
                html.Span(summary(health, lang), className="feeds-summary"),
                html.Span(as_of(now, tz, lang), className="feeds-as-of"),
            ],
            className="feeds-head",
        ),
    ]
    if not (access.rq and access.quarantine):
        note = "feeds_area_only" if access.area_only else "feeds_health_only"
        parts.append(html.P(t(note, lang), className="feeds-note"))
    parts.append(
        html.Div(
            [
                html.H2(t("feeds_health", lang)),
                health_table(health, lang, tz, manage=access.manage and may_manage_feeds()),
            ],
            className="case-card",
        )
    )
    # 未送达: the instructions the departments' endpoints never took (buttons for an admin)
    manage = access.manage and may_manage_feeds()
    parts.append(undelivered_section(undelivered, departments, access, lang, tz, manage))
    if access.rq:
        try:
            state = read_rq(svc.redis)
        except REDIS_DOWN as exc:  # the client itself could not be made
            state = RqState(error=str(exc))
        parts.append(rq_tables(state, lang))
        keys, key_error = read_push_keys(svc)
        parts.append(push_keys_section(keys, key_error, lang, tz))
    if access.quarantine:
        parts.append(
            html.Div(
                [
                    html.H2(t("feeds_quarantine", lang)),
                    quarantine_list(_shown_quarantine(rejected, access), lang, tz),
                ],
                className="case-card",
            )
        )
    return html.Div(parts, className="feeds-content")


def layout(ctx: PageContext) -> Any:
    settings = ctx.settings
    switch = lang_switch(ctx.base_path, "/feeds", ctx.query, ctx.lang)
    return html.Div(
        [
            top_bar(
                t("feeds_title", ctx.lang),
                ctx.lang,
                ctx.urls.wall(),
                "back_to_wall",
                switch,
            ),
            html.P("", id="feeds-message", className="feeds-message", role="status"),
            html.Div(
                content(ctx.services, ctx.scope, ctx.lang, settings.timezone, settings.stale_after_polls),
                id="feeds-content",
            ),
            dcc.Store(id="feeds-lang", data=ctx.lang),
            *follow.parts("feeds", ctx.services, ctx.urls.api("versions"), ctx.base_path, FOLLOW),
            html.Div(id="feeds-payload", className="case-card feeds-payload-panel"),
            dcc.Store(id="feeds-request"),
            dcc.Store(id="feeds-payload-request"),
            dcc.Store(id="feeds-loop-request"),
            dcc.Store(id="feeds-loop-request-department"),
        ],
        className="gridcc-page feeds-page",
    )


def register(app: Any) -> None:
    follow.register(app, "feeds", FOLLOW)

    @app.callback(
        Output("feeds-content", "children"),
        Input("feeds-moved", "data"),
        State("feeds-lang", "data"),
        prevent_initial_call=True,
    )
    def refresh(_moved: str | None, lang: str | None) -> Any:
        svc = services()
        return content(
            svc, current_scope(), normalise(lang), svc.settings.timezone, svc.settings.stale_after_polls
        )


def change_feed(name: str, action: str, lang: str) -> tuple[bool, str]:
    """Pause or resume ``name`` as the signed-in admin: (whether the viewer may, the message to show)."""
    user = current_user()
    if user is None or not may_manage_feeds() or action not in ("pause", "resume"):
        return False, t("feed_change_refused", lang)
    svc = services()
    try:
        with transaction(svc.sessions) as session:
            set_feed_paused(
                session,
                name,
                action == "pause",
                actor=user.username,
                remote_addr=request.remote_addr or "",
                now=datetime.now(UTC),
            )
    except FeedNotFound:
        return True, t("feed_change_missing", lang, feed=name)
    redis_or(None, lambda: versions.bump(svc.redis, ["feeds"]))  # every /feeds and the wall's banner re-read
    return True, t("feed_change_paused" if action == "pause" else "feed_change_resumed", lang, feed=name)


def on_feed_action(wanted: Any, lang: str | None) -> tuple[Any, Any]:
    """(page content, message) after a pause / resume request; nothing for an empty or malformed one."""
    if not isinstance(wanted, dict) or not wanted.get("feed") or not wanted.get("action"):
        return no_update, no_update
    lang = normalise(lang)
    allowed, message = change_feed(str(wanted["feed"])[:60], str(wanted["action"])[:20], lang)
    if not allowed:
        return no_update, message
    svc = services()
    tz, polls = svc.settings.timezone, svc.settings.stale_after_polls
    return content(svc, current_scope(), lang, tz, polls), message


def register_actions(app: Any) -> None:
    register_click_request(app, {"type": "feed-action", "feed": ALL, "action": ALL}, "feeds-request")
    app.callback(
        Output("feeds-content", "children", allow_duplicate=True),
        Output("feeds-message", "children"),
        Input("feeds-request", "data"),
        State("feeds-lang", "data"),
        prevent_initial_call=True,
    )(on_feed_action)


def show_payload(wanted: Any, lang: str | None) -> Any:
    """The payload panel for a 查看 / View request: the record's payload as the viewer may see it (see
    :mod:`dashboard.feeds.access`), refused when the viewer may not see the quarantine; a raw view is
    audited (``personal_view``, ``quarantine:<id>``) before it is sent."""
    if not isinstance(wanted, dict):
        return no_update
    lang = normalise(lang)
    try:
        record_id = int(wanted.get("record") or 0)
    except (TypeError, ValueError):
        return no_update
    access = feeds_access(current_scope())
    if not access.quarantine:
        return html.Div(t("payload_refused", lang), className="feeds-error")
    svc = services()
    with svc.sessions() as session:
        row = quarantine_record(session, record_id, RAW_CHARS) if record_id > 0 else None
    if row is None:
        return html.Div(t("payload_missing", lang, id=record_id), className="case-empty")
    if access.raw_payloads:
        with transaction(svc.sessions) as session:
            audit(
                session,
                viewer_name(),
                "personal_view",
                f"quarantine:{row.id}",
                f"raw payload of a {row.feed_name} record ({row.raw_length} characters)",
                request.remote_addr or "",
                datetime.now(UTC),
            )
    text = access.payload(row.raw)
    shown = replace(row, reason=access.text(row.reason))
    return payload_panel(shown, text, lang, svc.settings.timezone, RAW_CHARS, access.raw_payloads)


def on_loop_resend(wanted: Any, lang: str | None) -> tuple[Any, Any]:
    """(page content, message) after a 重新发送 request; refused (and nothing changed) unless an admin."""
    if not isinstance(wanted, dict):
        return no_update, no_update
    lang = normalise(lang)
    scope = current_scope()
    allowed, message = resend_undelivered(scope, wanted, may_manage_feeds(), lang)
    if not allowed:
        return no_update, message
    svc = services()
    return content(svc, scope, lang, svc.settings.timezone, svc.settings.stale_after_polls), message


def register_loop_resend(app: Any) -> None:
    # a 重新发送 click (one message, or a department's) becomes a request ({message|department, at})
    register_click_request(app, {"type": "loop-resend", "message": ALL}, "feeds-loop-request")
    register_click_request(app, {"type": "loop-resend", "department": ALL}, "feeds-loop-request-department")
    for store in ("feeds-loop-request", "feeds-loop-request-department"):
        app.callback(
            Output("feeds-content", "children", allow_duplicate=True),
            Output("feeds-message", "children", allow_duplicate=True),
            Input(store, "data"),
            State("feeds-lang", "data"),
            prevent_initial_call=True,
        )(on_loop_resend)


def register_payloads(app: Any) -> None:
    # a payload's 查看 / View click becomes a request ({record, at})
    register_click_request(app, {"type": "quarantine-show", "record": ALL}, "feeds-payload-request")
    app.callback(
        Output("feeds-payload", "children"),
        Input("feeds-payload-request", "data"),
        State("feeds-lang", "data"),
        prevent_initial_call=True,
    )(show_payload)


def register_all(app: Any) -> None:
    register(app)
    register_actions(app)
    register_payloads(app)
    register_loop_resend(app)


PAGE = Page(path="/feeds", name="feeds", title_key="feeds_title", layout=layout, register=register_all)
