"""Personal data in free text, as this viewer may see it.

Feed texts (a case's title, description and address, an alert's headline, a risk's title and owner, a
timeline note, a quarantine reason) can carry a citizen's phone or ID number. Everything that sends such a
text out of the server — a layer payload, a page, a callback, the wall's ``/api/wall``, the CSV export,
``/feeds`` — passes it through :func:`data.masking.mask_personal_text` in the viewer's mode:

- ``"full"`` for a role that may see personal data (the duty officer);
- ``"masked"`` (``139****5678``) for every other signed-in role and for nobody signed in;
- ``"none"`` for a wall: a placeholder (``[电话]``, ``[身份证号]``), no digit of it.

The mode is :func:`dashboard.auth.phone_view`, the same that decides the grid workers' phones, so a
viewer sees a phone the same way in a field and in a sentence. Bidi controls and zero-width characters
are taken out in every mode. Payloads cached in Redis carry the mode in their cache key (and so in their
ETag).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from typing import TypeVar

from data.masking import mask_personal_text

from .auth import phone_view

T = TypeVar("T")

CASE_TEXT = ("title", "address")  # the free-text fields of a case row (data.queries.CaseRow)
ALERT_TEXT = ("headline", "area_desc", "event")  # of an alert row (data.queries.AlertRow)


def text_mode() -> str:
    """``"full"``, ``"masked"`` or ``"none"`` for the viewer of the current request."""
    return phone_view()


def shown(text: str | None, mode: str | None = None) -> str:
    """``text`` as the viewer (or ``mode``) may see it."""
    return mask_personal_text(text, mode or text_mode())


def masked_fields(row: T, fields: Iterable[str], mode: str) -> T:
    """A copy of the dataclass ``row`` with its text ``fields`` passed through :func:`shown`."""
    changes = {name: shown(getattr(row, name), mode) for name in fields if getattr(row, name, None)}
    return dataclasses.replace(row, **changes) if changes else row  # type: ignore[type-var]


def masked_rows(rows: Iterable[T], fields: Iterable[str], mode: str) -> list[T]:
    names = tuple(fields)
    return [masked_fields(r, names, mode) for r in rows]


__all__ = ["ALERT_TEXT", "CASE_TEXT", "masked_fields", "masked_rows", "shown", "text_mode"]
