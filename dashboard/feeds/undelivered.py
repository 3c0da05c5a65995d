"""``/feeds``' 未送达 section: per department, the instructions its endpoint never took (after the last
retry), each with its attempts, its last error (secrets redacted, phones masked, shortened) and times;
an admin (``Permission.MANAGE_FEEDS``) gets 重新发送 buttons, one per message and one per department.

A button only names what to send again (a message id or a department code); the server checks the role
again and looks the messages up again among the undelivered ones of the viewer's scope, then sends them
again through :func:`data.loop.outbox.resend` — what ``gridcc loop resend`` calls, same message id,
audited ``loop_resend`` with the admin's name — and asks the workers to deliver now
(:func:`dashboard.loop_delivery.deliver_soon`). Anyone else gets the list without buttons, and a forged
request from them is refused and changes nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from itertools import groupby
from typing import Any

from dash import html
from flask import request

from data.db import transaction
from data.loop import outbox
from data.queries.common import department_name, department_names
from data.queries.loop import UndeliveredMessage, undelivered_messages
from data.scope import AreaScope
from data.text import label, local_time
from layers import versions

from ..auth import current_user
from ..components.format import EMPTY, data_attrs
from ..i18n import t
from ..loop_delivery import deliver_soon
from ..redis_or import redis_or
from ..services import Services, services
from .access import FeedsAccess

LIMIT = 200
ERROR_CHARS = 120
ACTION = "loop-resend"
COLUMNS = ("case", "kind", "attempts", "error", "sent", "last")


def read(svc: Services, scope: AreaScope) -> tuple[list[UndeliveredMessage], dict[str, str]]:
    with svc.sessions() as session:
        rows = undelivered_messages(session, scope, LIMIT)
        return rows, department_names(session) if rows else {}


def short_error(access: FeedsAccess, error: str) -> str:
    """The error as this viewer may see it (redacted, masked), on one line, at most ERROR_CHARS."""
    one_line = " ".join((error or "").split())
    if len(one_line) > ERROR_CHARS:
        one_line = one_line[:ERROR_CHARS] + "…"
    return access.text(one_line)


def _button(lang: str, key: str, **ident: str) -> html.Button:
    return html.Button(t(key, lang), id={"type": ACTION, **ident}, className="feed-action loop-resend")


def section(
    rows: Sequence[UndeliveredMessage], names: dict[str, str], access: FeedsAccess, lang: str, tz: str,
    manage: bool,
) -> html.Div:  # fmt: skip
    """The 未送达 card: one block per department, its messages in a table; buttons when ``manage``."""
    title = html.H2(t("feeds_loop_title", lang, n=len(rows)))
    if not rows:
        empty = html.Div(t("feeds_loop_none", lang), className="case-empty")
        return html.Div([title, empty], className="case-card feeds-loop", id="feeds-loop")
    keys = [f"feeds_loop_col_{k}" for k in COLUMNS] + (["feeds_loop_col_action"] if manage else [])
    blocks: list[Any] = [title]
    for code, group in groupby(rows, key=lambda r: r.department_code):
        messages = list(group)
        head: list[Any] = [
            html.Span(department_name(names, code), className="feeds-loop-department"),
            html.Span(t("feeds_loop_count", lang, n=len(messages)), className="feeds-loop-count"),
        ]
        if manage:
            head.append(_button(lang, "feeds_loop_resend_department", department=code))
        body = [
            html.Tr(
                [
                    html.Td(r.case_number or str(r.case_id), className="name"),
                    html.Td(label("instruction_kind", r.kind, lang)),
                    html.Td(r.attempts, className="num"),
                    html.Td(short_error(access, r.last_error) or EMPTY, className="error"),
                    html.Td(local_time(r.created_at, tz, lang, none=EMPTY), className="time"),
                    html.Td(local_time(r.last_attempt_at, tz, lang, none=EMPTY), className="time"),
                    *([html.Td(_button(lang, "feeds_loop_resend", message=r.message_id))] if manage else []),
                ],
                className="feeds-loop-row",
                **data_attrs(message=r.message_id),
            )
            for r in messages
        ]
        blocks.append(
            html.Div(
                [
                    html.Div(head, className="feeds-loop-head"),
                    html.Table(
                        [html.Thead(html.Tr([html.Th(t(k, lang)) for k in keys])), html.Tbody(body)],
                        className="feeds-table feeds-loop-table",
                    ),
                ],
                className="feeds-loop-block",
                **data_attrs(department=code),
            )
        )
    return html.Div(blocks, className="case-card feeds-loop", id="feeds-loop")


def resend(scope: AreaScope, wanted: dict[str, Any], may_manage: bool, lang: str) -> tuple[bool, str]:
    """Send again what ``wanted`` names (``{"message": id}`` or ``{"department": code}``) as the signed-in
    admin: (whether it was allowed, the message to show). Only undelivered messages of the viewer's
    scope are sent again, whatever the request names."""
    user = current_user()
    if user is None or not may_manage:
        return False, t("feeds_loop_refused", lang)
    message = str(wanted.get("message") or "")[:64]
    department = str(wanted.get("department") or "")[:40]
    if not message and not department:
        return False, t("feeds_loop_refused", lang)
    svc = services()
    now = datetime.now(UTC)
    with transaction(svc.sessions) as session:
        shown = undelivered_messages(session, scope, limit=10_000)
        ids = [
            r.message_id
            for r in shown
            if (message and r.message_id == message) or (not message and r.department_code == department)
        ]
        for message_id in ids:
            outbox.resend(session, message_id, user.username, now, request.remote_addr or "")
    if not ids:
        return True, t("feeds_loop_gone", lang)
    redis_or(None, lambda: versions.bump(svc.redis, ["feeds", "loop"]))  # /feeds and the wall re-read
    deliver_soon(svc)
    return True, t("feeds_loop_queued", lang, n=len(ids))
