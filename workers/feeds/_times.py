"""Feed timestamps: ISO-8601 text in, timezone-aware UTC datetimes out.

A time with an offset (``Z``, ``+08:00``, ``-08:00``, ``-00:00``) is converted to UTC. A time without
one is taken as China Standard Time (UTC+08:00): Open311 and CAP both require an offset, and the
feeds gridcc polls are Chinese departments' systems, whose naive times are local. The common Chinese
``2025/03/01 08:30:00`` form is accepted as well. Impossible dates (2025-02-30) are errors.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

CHINA = timezone(timedelta(hours=8), "CST")

_SLASH_FORMATS = ("%Y/%m/%d %H:%M:%S", "%Y/%m/%d %H:%M", "%Y/%m/%d")

# How far a feed's clock may run ahead of ours: a record stamped later than the poll's clock plus this
# is quarantined (workers.feeds.storable), and a feed's cursor never moves past it (workers.jobs.poll).
CLOCK_SKEW = timedelta(minutes=5)


class BadTime(ValueError):
    """A timestamp that could not be read; the message says which text and why."""


def parse_time(text: str, naive_tz: timezone = CHINA) -> datetime:
    """Parse one ISO-8601 timestamp into an aware UTC datetime (see the module docstring)."""
    value = text.strip()
    if not value:
        raise BadTime("empty timestamp")
    parsed: datetime | None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError as exc:
        parsed = _slash_form(value)
        if parsed is None:
            raise BadTime(f"unparseable timestamp {value!r}: {exc}") from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=naive_tz)
    return parsed.astimezone(UTC)


def parse_optional(text: str | None, naive_tz: timezone = CHINA) -> datetime | None:
    """Like :func:`parse_time`, but ``None`` or blank text gives ``None``."""
    if text is None or not text.strip():
        return None
    return parse_time(text, naive_tz)


def format_query_time(value: datetime) -> str:
    """An aware datetime as ISO-8601 with an explicit UTC offset (``2025-03-01T00:30:00+00:00``)."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"naive datetime {value.isoformat()}: give a timezone-aware datetime")
    return value.astimezone(UTC).isoformat(timespec="seconds")


def _slash_form(value: str) -> datetime | None:
    for fmt in _SLASH_FORMATS:
        try:
            return datetime.strptime(value, fmt)  # the zone is applied by the caller
        except ValueError:
            continue
    return None
