"""Secrets out of text: a URL's credentials and key-like query values never reach storage or a screen.

Feed URLs carry secrets (Open311's ``api_key``, a token, a password in the user-info part) and the
texts built from them — a fetch error naming the URL it failed on, an unreadable page's reason — are
stored in ``feed_health.last_error`` and the quarantine, printed by ``gridcc feeds list`` and shown on
``/feeds``. Everything that builds such a text passes the URL (:func:`redact_url`) or the whole text
(:func:`redact_text`) through here first; the screens pass stored texts through :func:`redact_text`
again, so a row written before this existed is safe too. A structured payload shown on ``/feeds`` (a
quarantined record's JSON or XML) also has its secret-named members and elements masked
(:func:`redact_payload`).

What counts as a secret: the password of ``user:password@host`` (the user name is kept, it says which
account), and the value of every query parameter or ``name=value`` pair whose name says key, token,
secret, password, signature, credential or auth (case-insensitive; ``api_key``, ``apiKey``,
``access_token``, ``X-Api-Key``, ``sig``, ``pwd`` …). The name is kept, the value becomes ``***``.
"""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, quote, urlencode, urlsplit, urlunsplit

MASK = "***"

_SECRET_NAME = re.compile(
    r"(?:^|[_\-.])(?:api[_\-]?key|apikey|key|token|access[_\-]?token|auth|authorization|secret|"
    r"client[_\-]?secret|password|passwd|pwd|pass|signature|sig|credential|credentials|session)$",
    re.IGNORECASE,
)
# ``name=value`` anywhere in a text (a query string quoted in an error, a form body, a header echo)
_PAIR = re.compile(r"(?P<name>[A-Za-z][A-Za-z0-9_\-.]{0,63})(?P<sep>\s*[=:]\s*)(?P<value>[^\s&;,'\"<>)\]}]+)")
# secrets in a structured payload, which the name=value pairs do not see: a JSON member
# ("api_key": "…") and an XML element (<api_key>…</api_key>)
_NAME = r"(?P<name>[A-Za-z][A-Za-z0-9_\-.]{0,63})"
_JSON_MEMBER = re.compile(r'"' + _NAME + r'"(?P<sep>\s*:\s*)"(?P<value>(?:[^"\\]|\\.)*)"')
_XML_ELEMENT = re.compile(r"<" + _NAME + r">(?P<value>[^<]*)</(?P=name)>")
# (a URL does not end in the punctuation of the sentence around it: "…&page=1: server said")
_URL = re.compile(r"[a-zA-Z][a-zA-Z0-9+.\-]*://[^\s'\"<>]+(?<![.,:;!?)\]])")


def is_secret_name(name: str) -> bool:
    """Whether a parameter called ``name`` holds a secret (``api_key``, ``apiKey``, ``token`` …)."""
    snake = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", name.strip())
    return bool(_SECRET_NAME.search(snake))


def redact_url(url: str) -> str:
    """``url`` without its password and with every secret query value replaced by ``***``."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return redact_pairs(url)
    netloc = parts.netloc
    if "@" in netloc:
        userinfo, _, host = netloc.rpartition("@")
        user = userinfo.split(":", 1)[0]
        netloc = f"{user}:{MASK}@{host}" if ":" in userinfo else f"{user}@{host}"
    query = parts.query
    if query:
        pairs = parse_qsl(query, keep_blank_values=True)
        if any(is_secret_name(k) for k, _ in pairs):
            query = urlencode(
                [(k, MASK if is_secret_name(k) else v) for k, v in pairs], safe="*", quote_via=quote
            )
    fragment = redact_pairs(parts.fragment) if parts.fragment else parts.fragment
    return urlunsplit((parts.scheme, netloc, parts.path, query, fragment))


def redact_pairs(text: str) -> str:
    """Every ``secret_name=value`` (or ``secret_name: value``) pair in ``text`` with its value masked."""

    def one(match: re.Match[str]) -> str:
        if not is_secret_name(match["name"]):
            return match[0]
        return f"{match['name']}{match['sep']}{MASK}"

    return _PAIR.sub(one, text)


def redact_text(text: str | None) -> str:
    """A free text (an error message, a reason) with every URL in it redacted and every secret
    ``name=value`` pair masked."""
    if not text:
        return ""
    return redact_pairs(_URL.sub(lambda m: redact_url(m[0]), text))


def redact_payload(text: str | None) -> str:
    """:func:`redact_text`, and the values of secret-named JSON members and XML elements."""

    def member(m: re.Match[str]) -> str:
        return f'"{m["name"]}"{m["sep"]}"{MASK}"' if is_secret_name(m["name"]) else m[0]

    def element(m: re.Match[str]) -> str:
        return f"<{m['name']}>{MASK}</{m['name']}>" if is_secret_name(m["name"]) else m[0]

    return _XML_ELEMENT.sub(element, _JSON_MEMBER.sub(member, redact_text(text)))
