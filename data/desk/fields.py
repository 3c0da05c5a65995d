"""Typed text made storable, as a polled record's is (``workers.feeds.storable`` checks the same for the
feeds; the screens mask what leaves with :func:`data.masking.mask_personal_text`):

- bidi controls and zero-width characters are taken out (:func:`data.masking.neutralise`): they never
  carry meaning and can make a text read as something else;
- a NUL character or a lone surrogate (text the database cannot store) is refused; other control
  characters become spaces (a line break stays in a description);
- a text longer than its column (read from the model, as the feeds' check does) is refused, never cut:
  the officer sees why and shortens it;
- markup stays text: ``<script>`` is stored as typed and shown as text (Dash escapes every string).
"""

from __future__ import annotations

import re
import unicodedata
from functools import cache

from ..masking import neutralise
from ..models import Case
from .errors import DeskRefused

_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
_PHONE = re.compile(r"^[0-9+\-() （）]*$")
DESCRIPTION_MAX = 4000  # a Text column: the form's own limit
REASON_MAX = 500


@cache
def column_limit(column: str) -> int:
    """The length of a ``case`` column (``title`` → 200)."""
    length = getattr(Case.__table__.columns[column].type, "length", None)
    return int(length) if length else DESCRIPTION_MAX


def clean_text(value: object, field: str, limit: int, *, required: bool = False, lines: bool = False) -> str:
    """``value`` cleaned (see the module) and checked; :class:`DeskRefused` naming ``field`` when it is
    not text, unstorable, missing while ``required``, or longer than ``limit`` characters."""
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise DeskRefused("not_text", f"{field} is not text", field=field)
    found = _UNSTORABLE.search(value)
    if found is not None:
        raise DeskRefused("unstorable", f"{field} holds a character the database cannot store", field=field)
    text = neutralise(value).replace("\r\n", "\n").replace("\r", "\n")
    keep = "\n\t" if lines else ""
    text = "".join(
        ch if ch in keep or unicodedata.category(ch) not in ("Cc", "Cf", "Zl", "Zp") else " " for ch in text
    )
    text = text.strip()
    if required and not text:
        raise DeskRefused("required", f"{field} is required", field=field)
    if len(text) > limit:
        raise DeskRefused(
            "too_long",
            f"{field} is {len(text)} characters long: at most {limit}",
            field=field,
            n=len(text),
            limit=limit,
        )
    return text


def clean_phone(value: object) -> str:
    """A reporter's phone as typed (digits, spaces, ``+ - ( )``), at most the column's length; "" when
    none was given."""
    text = clean_text(value, "reporter_phone", column_limit("reporter_phone"))
    digits = sum(ch.isdigit() for ch in text)
    if text and (not _PHONE.match(text) or digits < 5):
        raise DeskRefused(
            "bad_phone", f"reporter_phone {text!r} is not a phone number", field="reporter_phone"
        )
    return text
