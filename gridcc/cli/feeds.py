"""``gridcc feeds``: the department feeds with their health, their quarantined records, and (from
``feeds_parse``) parsing a payload offline."""

from __future__ import annotations

from datetime import datetime

import click
from rich.console import Console
from rich.markup import escape
from rich.table import Table
from sqlalchemy import inspect, select

from data import text
from data.db import make_engine, make_sessionmaker
from data.feed_status import feed_ages, feed_status, label
from data.models import Feed, FeedHealth, Quarantine, utcnow
from data.redact import redact_text
from data.settings import Settings
from workers.feeds.config import FeedConfigError, load_feeds

from .feeds_parse import parse

# The columns of ``gridcc feeds list`` (``cli_col_<key>`` in the catalogue); those in LEFT are left-aligned.
COLUMNS = (
    "name", "department", "protocol", "interval", "enabled", "health", "last_success", "since_success",
    "newest_record", "received", "new", "updated", "ignored", "quarantined", "error_note",
)  # fmt: skip
LEFT = frozenset({"name", "department", "protocol", "enabled", "health", "last_success", "error_note"})

STATUS_STYLE = {
    "ok": "green",
    "stale": "bold red",
    "failing": "yellow",
    "never": "dim",
    "disabled": "dim",
    "paused": "cyan",
}


def _console() -> Console:
    return Console(width=200, soft_wrap=False)


def _local(value: datetime | None, settings: Settings) -> str:
    return text.local_time(value, settings.tz, settings.language, "second") or text.EMPTY


def _age(seconds: float | None, lang: str) -> str:
    return text.duration(seconds, lang, none=text.EMPTY)


@click.group()
def feeds() -> None:
    """The department feeds."""


@feeds.command("list")
@click.pass_obj
def list_feeds(settings: Settings) -> None:
    """Every feed of the feeds file with its health, the time since its last successful poll (what
    "stale" is judged on), the age of its newest record (information only), counts and last error."""
    try:
        configs = load_feeds(settings.effective_feeds_file)
    except FeedConfigError as exc:
        raise click.ClickException(str(exc)) from None
    health: dict[str, FeedHealth] = {}
    paused: set[str] = set()  # paused by an admin (gridcc feeds disable, /feeds): shown as paused
    engine = make_engine(settings)
    try:
        if inspect(engine).has_table("feed_health"):
            with make_sessionmaker(engine)() as session:
                health = {h.feed_name: h for h in session.scalars(select(FeedHealth))}
                paused = set(session.scalars(select(Feed.name).where(Feed.paused_at.is_not(None))))
    finally:
        engine.dispose()
    now = utcnow()
    table = Table(title=text.t("cli_feeds_title", settings.language, file=settings.effective_feeds_file))
    lang = settings.language
    for key in COLUMNS:
        word = text.t(f"cli_col_{key}", lang)
        table.add_column(word, justify="left" if key in LEFT else "right", overflow="fold")
    for config in configs:
        h = health.get(config.name)
        state = feed_status(
            h,
            _Interval(config.interval),
            now,
            settings.stale_after_polls,
            config.enabled,
            config.name in paused,
        )
        ages = feed_ages(h, now)
        word = label(state, settings.language)
        counts = [str(getattr(h, n) or 0) if h else "0" for n in ("received", "new", "updated", "ignored")]
        table.add_row(
            config.name,
            config.department,
            config.protocol,
            _age(config.interval, lang),
            text.t("yes" if config.enabled else "no", lang),
            f"[{STATUS_STYLE[state]}]{escape(word)}[/]",
            _local(h.last_success_at if h else None, settings),
            _age(ages.since_success_s, lang),
            _age(ages.record_age_s, lang),
            *counts,
            str(h.quarantined or 0) if h else "0",
            # stored texts are redacted when written; again here for rows written before that
            escape(_error_or_note(h, lang)),
        )
    _console().print(table)


def _error_or_note(h: FeedHealth | None, lang: str) -> str:
    """The last error of a failing feed, else the note of its last (short) poll; stored texts are
    redacted when written, and again here for rows written before that."""
    if h is None:
        return ""
    if h.consecutive_failures:
        return redact_text(h.last_error)[:120]
    return text.t("cli_feeds_note", lang, note=redact_text(h.note)[:120]) if h.note else ""


class _Interval:
    def __init__(self, seconds: int) -> None:
        self.interval_s = seconds


@feeds.command("quarantine")
@click.option("--feed", "feed_name", default=None)
@click.option("--limit", default=50, show_default=True)
@click.pass_obj
def quarantine(settings: Settings, feed_name: str | None, limit: int) -> None:
    """Records and documents the feeds sent that were rejected, with the reason (newest first)."""
    engine = make_engine(settings)
    try:
        with make_sessionmaker(engine)() as session:
            stmt = select(Quarantine).order_by(Quarantine.id.desc()).limit(limit)
            if feed_name:
                stmt = stmt.where(Quarantine.feed_name == feed_name)
            rows = list(session.scalars(stmt))
            known = set(session.scalars(select(Feed.name)))
    finally:
        engine.dispose()
    if feed_name and feed_name not in known and not rows:
        raise click.ClickException(text.t("cli_feed_never_polled", settings.language, name=repr(feed_name)))
    table = Table(title=text.t("cli_quarantine_title", settings.language, n=len(rows)))
    for key in ("at", "feed", "external_id", "reason", "raw"):
        table.add_column(text.t(f"cli_col_{key}", settings.language), overflow="fold")
    for row in rows:
        raw = " ".join(row.raw.split())[:80]
        table.add_row(
            _local(row.at, settings), row.feed_name, escape(redact_text(row.external_id) or "—"),
            escape(redact_text(row.reason)),
            escape(raw),
        )  # fmt: skip
    _console().print(table)


feeds.add_command(parse)
