"""What the case search matches on, computed once when a case is written.

Chinese has no spaces between words, so a text is indexed as **bigrams**: each stretch of text between
spaces and punctuation is cut into units (a CJK character, or a word of letters and digits) and their
overlapping pairs are the terms (``沙坝村第5网格`` → ``沙坝 坝村 村第 第5 5网 网格``). A query is cut the
same way and matched as a phrase (its terms adjacent and in order), so ``坝村`` and ``第5网格`` find it
and ``沙村`` does not.
Bigrams, not trigrams: the commonest Chinese search words have two characters (井盖, 噪声, 垃圾), which a
trigram index cannot look up.

Phones and ID numbers are taken out of the text before it is cut (:func:`data.masking.mask_personal_text`
in ``"none"`` mode): the words index must never find a case by the caller's phone for a viewer who may
not search by phone. A phone is matched only on :func:`phone_hash`, a keyed hash (HMAC-SHA256 with a
server secret, :meth:`data.settings.Settings.phone_search_key`) of its digits: a copy of the table does
not give the phones back by trying every number without the key.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import unicodedata
from functools import lru_cache

from ..masking import mask_personal_text

# CJK ideographs (unified, extension A, compatibility) and the kana/hangul blocks
_CJK = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\u3040-\u30ff\uac00-\ud7af"
_SEGMENT = re.compile(f"[{_CJK}0-9a-z]+")  # a stretch of text without space or punctuation
_UNIT = re.compile(f"[{_CJK}]|[0-9a-z]+")  # one CJK character, or one word of letters and digits
_DIGITS = re.compile(r"\d")
MOBILE = re.compile(r"^1[3-9]\d{9}$")
LANDLINE = re.compile(r"^0[1-9]\d{8,10}$")  # area code 0 + 2–3 digits, local number 7–8 digits

MAX_QUERY_TERMS = 32  # terms of a query kept (a phrase of 32 bigrams is already unique)


def segments(text: str | None) -> list[list[str]]:
    """The text's segments (split at spaces and punctuation), each as its units: CJK characters one by
    one, letters and digits a word at a time (``第5网格`` → ``第 5 网 格``); NFKC and lower case."""
    folded = unicodedata.normalize("NFKC", text or "").lower()
    return [_UNIT.findall(segment) for segment in _SEGMENT.findall(folded)]


def _bigrams(units: list[str]) -> list[str]:
    return [units[i] + units[i + 1] for i in range(len(units) - 1)]


def terms(text: str | None) -> list[str]:
    """The indexed terms of a text, in order: each segment's bigrams of units followed by its last unit
    alone (so a one-unit query, matched as a prefix, finds every unit), then the text's words of letters
    and digits alone (so ``12`` finds ``巴川12号``)."""
    out: list[str] = []
    words: list[str] = []
    for units in segments(text):
        out.extend(_bigrams(units))
        out.append(units[-1])
        words.extend(u for u in units[:-1] if u.isascii())
    return out + words


def document_terms(*texts: str | None) -> str:
    """The ``case.search_terms`` value of a case's texts: their terms, space-separated, phones and ID
    numbers taken out first."""
    parts = [(_short_text_terms if len(t) <= SHORT_TEXT else _text_terms)(t) for t in texts if t]
    return " ".join(p for p in parts if p)


def _text_terms(text: str) -> str:
    """One text's terms, space-separated."""
    return " ".join(terms(mask_personal_text(text, "none")))


SHORT_TEXT = 300  # a title (200) or an address (300): what a batch repeats, and what is cached


@lru_cache(maxsize=2048)
def _short_text_terms(text: str) -> str:
    return _text_terms(text)


def query_terms(query: str) -> list[tuple[list[str], bool]]:
    """A query as the phrases it is matched on: one per segment, all required. A segment of two or more
    units is its bigrams, matched as a phrase; a one-unit segment is that unit, matched as a prefix of a
    term (the flag). At most :data:`MAX_QUERY_TERMS` terms in all."""
    phrases: list[tuple[list[str], bool]] = []
    budget = MAX_QUERY_TERMS
    for units in segments(query):
        phrase = (_bigrams(units) or units)[:budget]
        if phrase:
            phrases.append((phrase, len(units) == 1))
            budget -= len(phrase)
    return phrases


def phone_digits(value: str | None) -> str | None:
    """A phone reduced to its digits as dialled in China (``+86 139-1234-5678`` → ``13912345678``,
    ``(023)61234567`` → ``02361234567``), or None when it is not a mobile or landline number."""
    digits = "".join(_DIGITS.findall(unicodedata.normalize("NFKC", value or "")))
    if digits.startswith("0086"):
        digits = digits[4:]
    elif digits.startswith("86") and len(digits) in (13, 12, 11) and not MOBILE.match(digits):
        digits = digits[2:]
    if len(digits) in (9, 10) and not digits.startswith(("0", "1")):
        digits = "0" + digits  # +86 23 61234567: the area code without its 0
    if MOBILE.match(digits) or LANDLINE.match(digits):
        return digits
    return None


def phone_hash(value: str | None, key: bytes | None) -> str | None:
    """The keyed hash stored in ``case.phone_hash`` (hex HMAC-SHA256 of :func:`phone_digits`), or None
    without a phone of a known shape or without a key."""
    digits = phone_digits(value)
    if digits is None or not key:
        return None
    return hmac.new(key, digits.encode("ascii"), hashlib.sha256).hexdigest()


def search_columns(
    title: str | None, description: str | None, address: str | None, phone: str | None, key: bytes | None
) -> dict[str, str | None]:
    """``search_terms`` and ``phone_hash`` of a case, for whoever writes one (the ingest, the desk)."""
    return {
        "search_terms": document_terms(title, description, address),
        "phone_hash": phone_hash(phone, key),
    }
