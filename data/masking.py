"""Personal data (phones, ID numbers) masked for display, in their own fields and inside free text.

Three modes, the same three a viewer's phone view has (``dashboard.auth.phone_view``):

- ``"full"``: shown as sent (a role that needs them: the duty officer);
- ``"masked"``: ``139****5678``, ``023****4567``, ``500101********123X`` (leaders, admins, nobody signed in);
- ``"none"``: not even masked, a placeholder instead: ``[电话]``, ``[身份证号]`` (a wall: no digit of it).

:func:`mask_personal_text` is the one function every free text (a case's title, description, address,
an alert's headline, a quarantine reason …) goes through on its way out of the server. It first takes out
the invisible controls that could spoof what a reader sees (:func:`neutralise`: bidi overrides and
isolates, zero-width characters), in every mode, so a zero-width space inside a number cannot hide it
from the patterns either.

What is recognised (real shapes, not any digit run):

- mobile: ``1[3-9]`` + 9 digits, also written ``139 1234 5678`` / ``139-1234-5678``, with ``+86`` /
  ``0086`` / ``86-`` in front;
- landline with its area code: ``023-61234567``, ``(023)61234567``, ``（023）6123 4567``,
  ``02361234567``, ``0571-8765432``, ``+86-23-61234567`` (area code ``0`` + 2–3 digits, the local
  number 7–8 digits starting 2–9). A local number without its area code is not recognised (it cannot be
  told from a date or a count);
- resident ID: 18 digits (the last may be ``X``/``x``) with a real birth date (``18``/``19``/``20`` + yy,
  month, day), also in 6-8-4 groups; the old 15-digit ID (yy from 10 to 99: a 15-digit grid code reads
  as yy ``00``–``09``, so grid codes are not taken for IDs).

Not matched: a longer or shorter digit run (case numbers, epoch times), dates (``2026-12-06``,
``20261206``), decimals and coordinates (``106.5512345678``), unit codes (6, 9, 12, 15 digits).
"""

from __future__ import annotations

import re

_DIGITS = re.compile(r"\d")

MODES = ("full", "masked", "none")
PHONE_PLACEHOLDER = "[电话]"
ID_PLACEHOLDER = "[身份证号]"

# bidi embeddings/overrides (U+202A–202E), isolates (U+2066–2069), zero-width space / non-joiner /
# joiner (U+200B–200D), word joiner (U+2060), BOM / zero-width no-break space (U+FEFF); also the
# implicit marks LRM/RLM/ALM (U+200E, U+200F, U+061C), which steer bidi the same way.
INVISIBLE = re.compile("[\u202a-\u202e\u2066-\u2069\u200b-\u200f\u2060\ufeff\u061c]")

_SEP = r"[ \-\u00a0]?"
_LEFT = r"(?<![\d.\uff0e])(?<!\d[.,])"  # not inside a digit run, not a decimal's fraction
_ID18 = (
    r"(?P<id18>[1-9]\d{5}"
    + _SEP
    + r"(?:18|19|20)\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])"
    + _SEP
    + r"\d{3}[\dXx])(?![\dXx])"
)
_ID15 = r"(?P<id15>[1-9]\d{5}[1-9]\d(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])\d{3})(?!\d)"
_MOBILE = r"(?P<mobile>(?:(?:\+|00)86" + _SEP + r"|86-)?1[3-9]\d" + _SEP + r"\d{4}" + _SEP + r"\d{4})(?!\d)"
_AREA = r"(?:\(0[1-9]\d{1,2}\)|（0[1-9]\d{1,2}）|0[1-9]\d{1,2}|(?:\+|00)86[ \-]?[1-9]\d{1,2}(?=[ \-]))"
_LANDLINE = r"(?P<landline>" + _AREA + _SEP + r"[2-9]\d{2,3}" + _SEP + r"\d{4})(?!\d)"
PERSONAL = re.compile(_LEFT + "(?:" + "|".join((_ID18, _ID15, _MOBILE, _LANDLINE)) + ")")


def mask_phone(phone: str | None) -> str:
    """138****5678 for an 11-digit mobile; keep the first 3 and last 4 digits of anything else."""
    if not phone:
        return ""
    digits = "".join(_DIGITS.findall(phone))
    if len(digits) < 7:
        return "*" * len(digits)
    return f"{digits[:3]}{'*' * (len(digits) - 7)}{digits[-4:]}"


def mask_email(value: str | None) -> str:
    """An email address: its first character, ``***`` and its domain (``z***@example.org``); an
    address without ``@`` is all stars."""
    if not value:
        return ""
    local, at, domain = value.strip().rpartition("@")
    if not at or not local:
        return "***"
    return f"{local[0]}***@{domain}"


def mask_id_number(value: str | None) -> str:
    """A resident ID number: keep the first 6 and last 4 characters."""
    if not value:
        return ""
    value = value.strip()
    if len(value) <= 10:
        return "*" * len(value)
    return f"{value[:6]}{'*' * (len(value) - 10)}{value[-4:]}"


def neutralise(text: str | None) -> str:
    """``text`` without bidi controls and zero-width characters (they never carry meaning in feed text
    and can make an address or an id read as something else)."""
    return INVISIBLE.sub("", text or "")


def _mobile_digits(raw: str) -> str:
    digits = "".join(_DIGITS.findall(raw))
    return digits[-11:]  # without the country code


def _landline_digits(raw: str) -> str:
    digits = "".join(_DIGITS.findall(raw))
    if raw.lstrip().startswith(("+86", "0086")) or (raw.startswith("86") and not raw.startswith("0")):
        digits = digits[4:] if digits.startswith("0086") else digits[2:]
        digits = digits if digits.startswith("0") else "0" + digits
    return digits


def _masked(match: re.Match[str], mode: str) -> str:
    kind = match.lastgroup or ""
    if kind in ("id18", "id15"):
        return ID_PLACEHOLDER if mode == "none" else mask_id_number(re.sub(r"[ \-\u00a0]", "", match[0]))
    if mode == "none":
        return PHONE_PLACEHOLDER
    digits = _mobile_digits(match[0]) if kind == "mobile" else _landline_digits(match[0])
    return mask_phone(digits)


def mask_personal_text(text: str | None, mode: str) -> str:
    """A free text as a viewer in ``mode`` may see it (see the module's docstring): invisible controls
    always out; phones and ID numbers as they are (``"full"``), masked (``"masked"``) or replaced by a
    placeholder (``"none"``). An unknown mode is taken as ``"none"``."""
    clean = neutralise(text)
    if mode == "full" or not clean:
        return clean
    mode = mode if mode in MODES else "none"
    return PERSONAL.sub(lambda m: _masked(m, mode), clean)


def has_personal(text: str | None) -> bool:
    """Whether ``text`` holds a phone or ID number of a recognised shape."""
    return PERSONAL.search(neutralise(text)) is not None
