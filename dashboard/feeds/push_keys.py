"""``/feeds``' 推送密钥 section: per push key, what its requests came to — accepted, refused by its rate
limit, refused by its size limit, bad requests (``data.push.limits``, counted in Redis by the push
endpoints) — so that one misbehaving client is seen at once. Shown to those who see the queues."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from dash import html
from sqlalchemy import select

from data.models import PushKey
from data.push import limits
from data.text import local_time

from ..components.format import EMPTY, data_attrs
from ..i18n import t
from ..redis_or import REDIS_DOWN
from ..services import Services

COLUMNS = ("key", "owner", "feed", "accepted", "rate", "size", "bad", "revoked")


@dataclass(frozen=True)
class KeyRow:
    name: str
    owner: str
    feed: str
    revoked: datetime | None
    counts: limits.KeyCounts


def read(svc: Services) -> tuple[list[KeyRow], str]:
    """Every key (with zero counts when it never pushed) and its counts; the error when Redis is away."""
    with svc.sessions() as session:
        keys = session.execute(
            select(PushKey.name, PushKey.owner, PushKey.feed_name, PushKey.revoked_at).order_by(PushKey.name)
        ).all()
    error = ""
    try:
        counted = {c.name: c for c in limits.counts(svc.redis)}
    except REDIS_DOWN as exc:
        counted, error = {}, str(exc)
    rows = [
        KeyRow(k.name, k.owner, k.feed_name, k.revoked_at, counted.get(k.name, limits.KeyCounts(k.name)))
        for k in keys
    ]
    return rows, error


def section(rows: list[KeyRow], error: str, lang: str, tz: str) -> html.Div:
    title = html.H2(t("push_feeds_title", lang))
    if error:
        return html.Div([title, html.P(t("push_feeds_unavailable", lang), className="feeds-note")],
                        className="case-card", id="feeds-push")  # fmt: skip
    if not rows:
        return html.Div([title, html.Div(t("push_feeds_none", lang), className="case-empty")],
                        className="case-card", id="feeds-push")  # fmt: skip
    body = [
        html.Tr(
            [
                html.Td(r.name, className="name"),
                html.Td(r.owner),
                html.Td(r.feed),
                html.Td(r.counts.accepted, className="num"),
                html.Td(r.counts.rate, className="num" + (" bad" if r.counts.rate else "")),
                html.Td(r.counts.size, className="num" + (" bad" if r.counts.size else "")),
                html.Td(r.counts.bad, className="num" + (" bad" if r.counts.bad else "")),
                html.Td(local_time(r.revoked, tz, lang, none=EMPTY), className="time"),
            ],
            className="feeds-push-row",
            **data_attrs(key=r.name),
        )
        for r in rows
    ]
    table = html.Table(
        [html.Thead(html.Tr([html.Th(t(f"push_feeds_col_{k}", lang)) for k in COLUMNS])), html.Tbody(body)],
        className="feeds-table feeds-push-table",
    )
    return html.Div([title, table], className="case-card", id="feeds-push")
