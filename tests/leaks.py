"""A leak scanner for the privacy tests: phones, ID numbers and secrets, in full or masked, in anything a
viewer's browser received (pages, callback answers, layer payloads, ``/api/wall``, ``/feeds``).

The patterns are written here on their own (not :mod:`data.masking`'s), so a shape the masking misses is
still caught. What the scanner takes out first is only what is known not to be text of ours: Dash's
per-page-load ``end_id`` (a random salt plus an HMAC-SHA256 hex signature, in the page's
``_dash-config``): a hex string holds a phone-shaped digit run about once in a hundred page loads
(``…a14662657406f…``, issue 9 finding 13), which is not a phone.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

# Dash's page-load token: "end_id": "<salt>~<hex signature>" (in the HTML's JSON config, maybe escaped)
END_ID = re.compile(r'(\\?"end_id\\?"\s*:\s*\\?")[A-Za-z0-9~]+(\\?")')

_LEFT = r"(?<![\d.])"
PATTERNS = {
    "mobile": re.compile(_LEFT + r"(?:\+?86[ \-]?)?1[3-9]\d[ \-]?\d{4}[ \-]?\d{4}(?!\d)"),
    "mobile masked": re.compile(r"1\d{2}\*{4}\d{4}"),
    "landline": re.compile(_LEFT + r"(?:\(0\d{2,3}\)|（0\d{2,3}）|0[1-9]\d{1,2}-)[ \-]?\d{7,8}(?!\d)"),
    "landline masked": re.compile(r"0\d{2}\*{4,5}\d{4}"),
    "id number": re.compile(_LEFT + r"[1-9]\d{5}(?:18|19|20)\d{2}[01]\d[0-3]\d\d{3}[\dXx](?![\dXx])"),
    "id number masked": re.compile(r"\d{6}\*{5,8}[\dXx]{4}"),
}


_ESCAPE = re.compile(r"\\u([0-9a-fA-F]{4})")


def without_known_tokens(body: str) -> str:
    """``body`` with JSON's ``\\uXXXX`` escapes read back (``\\u753513912345678`` is 电 and a phone: a
    digit-ending escape must not hide the number behind it) and Dash's ``end_id`` value blanked (not
    ours, and random: see the module's docstring)."""
    return _ESCAPE.sub(lambda m: chr(int(m[1], 16)), END_ID.sub(r"\1\2", body))


def find_leaks(body: str, secrets: Iterable[str] = (), context: int = 40) -> list[str]:
    """Every phone, ID number (full or masked) and given secret in ``body``, each with ``context``
    characters either side (to say where it is)."""
    text = without_known_tokens(body)
    found = []
    for kind, pattern in PATTERNS.items():
        for m in pattern.finditer(text):
            found.append(f"{kind}: …{text[max(0, m.start() - context) : m.end() + context]}…")
    for secret in secrets:
        start = text.find(secret)
        while start >= 0:
            found.append(f"secret: …{text[max(0, start - context) : start + len(secret) + context]}…")
            start = text.find(secret, start + 1)
    return found


def leaks(bodies: Mapping[str, str], secrets: Iterable[str] = ()) -> dict[str, list[str]]:
    """:func:`find_leaks` over named bodies: only those with a finding (``{}`` when clean)."""
    wanted = tuple(secrets)
    out = {name: find_leaks(body, wanted) for name, body in bodies.items()}
    return {name: found for name, found in out.items() if found}


__all__ = ["END_ID", "PATTERNS", "find_leaks", "leaks", "without_known_tokens"]
