"""Whether a parsed record can be stored: checked before the ingest, so one record the database would
refuse costs only itself (it is quarantined with the reason) instead of failing the whole commit.

- Text: no lone surrogate (``"\\ud800"`` in JSON: not encodable, the driver refuses to bind it) and
  no NUL character (PostgreSQL refuses it in text) in any text field.
- Lengths: a text field kept in a column of limited length (``case.external_id``, ``category_name``,
  ``source_status``, ``alert.event`` …) is at most that length, read from the models themselves.
  SQLite does not enforce lengths, PostgreSQL does; checking here makes both behave the same.
- Times: none before 1970. A time that says something *happened* (requested, updated, accepted,
  resolved; an alert's ``sent``) is no later than the poll's clock plus :data:`CLOCK_SKEW`; a time
  that looks *forward* (an expected deadline, an alert's onset and expiry) is at most
  :data:`FORWARD_LIMIT` ahead.

A record stamped in the future is quarantined, not clamped to the clock: a clamped time would be a
time the department never sent, and the record would still move the feed's cursor; the quarantine
keeps it, with its reason, for the operator to take up with the department.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import fields
from datetime import UTC, datetime, timedelta
from functools import cache
from typing import TypeVar

from data.models import Alert, Case

from ._times import CHINA, CLOCK_SKEW
from .records import AlertRecord, CaseRecord, ParseResult, Rejection

__all__ = ["CLOCK_SKEW", "EARLIEST", "FORWARD_LIMIT", "problem", "screen"]

R = TypeVar("R", CaseRecord, AlertRecord)

EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
FORWARD_LIMIT = timedelta(days=3653)  # ten years ahead: no deadline or warning runs longer

_BAD_CHAR = re.compile("[\x00\ud800-\udfff]")

# record field → (the model column it is stored in, the name the feed gives it)
_CASE_COLUMNS = {
    "external_id": ("external_id", "service_request_id"),
    "source_status": ("source_status", "status"),
    "category_name": ("category_name", "service_name"),
    "category_code": ("category_name", "service_code"),  # kept as the name when the code is not ours
    "reporter_name": ("reporter_name", "reporter_name"),
    "reporter_phone": ("reporter_phone", "reporter_phone"),
    "reporter_email": ("reporter_email", "email"),
}
_CASE_NAMES = {
    "external_id": "service_request_id", "source_status": "status", "category_name": "service_name",
    "category_code": "service_code", "department": "agency_responsible",
    "requested_at": "requested_datetime", "updated_at": "updated_datetime",
    "expected_at": "expected_datetime", "accepted_at": "accepted_datetime",
    "resolved_at": "resolved_datetime",
}  # fmt: skip
_CASE_HAPPENED: tuple[str, ...] = ("requested_at", "updated_at", "accepted_at", "resolved_at")
_CASE_FORWARD: tuple[str, ...] = ("expected_at",)

_ALERT_COLUMNS = {
    name: (name, name)
    for name in ("external_id", "msg_type", "kind", "event", "severity", "colour", "urgency", "certainty")
}
_ALERT_COLUMNS["headline"] = ("headline", "headline")
_ALERT_HAPPENED = ("sent",)
_ALERT_FORWARD = ("onset", "expires")


@cache
def _length(model: type[Case] | type[Alert], column: str) -> int | None:
    length = getattr(model.__table__.columns[column].type, "length", None)
    return int(length) if length else None


def problem(record: CaseRecord | AlertRecord, clock: datetime) -> str | None:
    """Why ``record`` cannot be stored (the quarantine reason), or ``None`` when it can be.
    ``clock`` is the poll's own clock (aware)."""
    if isinstance(record, CaseRecord):
        model: type[Case] | type[Alert] = Case
        columns, names = _CASE_COLUMNS, _CASE_NAMES
        happened, forward = _CASE_HAPPENED, _CASE_FORWARD
    else:
        model, columns, names = Alert, _ALERT_COLUMNS, {}
        happened, forward = _ALERT_HAPPENED, _ALERT_FORWARD
    texts = _texts(record)
    # one search over the record's texts together; each is looked at apart only when one holds a bad
    # character (the separator is not one)
    suspect = _BAD_CHAR.search("\n".join([text for _, text in texts])) is not None
    for name, text in texts if suspect else ():
        label = names.get(name, name)
        found = _BAD_CHAR.search(text)
        if found is not None:
            char = found.group()
            what = "a NUL character" if char == "\x00" else f"a lone surrogate (U+{ord(char):04X})"
            return f"{label} holds {what} at character {found.start() + 1}: text the database cannot store"
    for name, (column, label) in columns.items():
        value = getattr(record, name)
        limit = _length(model, column)
        if isinstance(value, str) and limit is not None and len(value) > limit:
            table = model.__tablename__
            return f"{label} is {len(value)} characters long: {table}.{column} holds at most {limit}"
    for name in (*happened, *forward):
        when = getattr(record, name)
        if when is None:
            continue
        label = names.get(name, name)
        if when < EARLIEST:
            return f"{label} {_shown(when)} is before 1970"
        if name in happened and when > clock + CLOCK_SKEW:
            return f"{label} {_shown(when)} is in the future (poll clock {_shown(clock)})"
        if name in forward and when > clock + FORWARD_LIMIT:
            return f"{label} {_shown(when)} is more than ten years ahead (poll clock {_shown(clock)})"
    return None


def screen(result: ParseResult, clock: datetime) -> int:
    """Move the records of ``result`` that cannot be stored to its rejections; returns how many."""
    before = len(result.rejections)
    result.cases = list(_keep(result.cases, clock, result.rejections))
    result.alerts = list(_keep(result.alerts, clock, result.rejections))
    return len(result.rejections) - before


def _keep(records: Iterable[R], clock: datetime, rejections: list[Rejection]) -> Iterator[R]:
    for record in records:
        reason = problem(record, clock)
        if reason is None:
            yield record
        else:
            external_id = _BAD_CHAR.sub("\ufffd", record.external_id)[:250] or None
            rejections.append(Rejection(reason=reason, raw=record.raw, external_id=external_id))


# the fields looked at for text (raw: the quarantine makes it storable)
_CASE_FIELDS = tuple(f.name for f in fields(CaseRecord) if f.name != "raw")
_ALERT_FIELDS = tuple(f.name for f in fields(AlertRecord) if f.name != "raw")


def _texts(record: CaseRecord | AlertRecord) -> list[tuple[str, str]]:
    """Every text of the record with its field's name, in field order."""
    out: list[tuple[str, str]] = []
    for name in _CASE_FIELDS if isinstance(record, CaseRecord) else _ALERT_FIELDS:
        value = getattr(record, name)
        if isinstance(value, str):
            out.append((name, value))
        elif isinstance(value, tuple | list | dict):
            out.extend((name, text) for text in _strings(value))
    return out


def _strings(value: object) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, tuple | list):
        for item in value:
            yield from _strings(item)
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _strings(key)
            yield from _strings(item)


def _shown(when: datetime) -> str:
    try:
        return when.astimezone(CHINA).isoformat(timespec="seconds")
    except OverflowError:  # 9999-12-31T23:59:59Z has no UTC+08:00 form
        return when.isoformat(timespec="seconds")
