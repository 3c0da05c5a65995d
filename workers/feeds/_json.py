"""Untrusted JSON feed documents: parsed, or rejected with a reason that says where."""

from __future__ import annotations

import json
from typing import Any

from .records import DocumentRejected


def load(body: bytes) -> Any:
    """The parsed JSON value, or :class:`DocumentRejected` naming the line and column of the fault."""
    if not body.strip():
        raise DocumentRejected("empty document")
    try:
        return json.loads(body)
    except UnicodeDecodeError as exc:
        raise DocumentRejected(f"malformed JSON: not UTF-8 ({exc.reason})") from None
    except json.JSONDecodeError as exc:
        where = f"line {exc.lineno}, column {exc.colno}"
        raise DocumentRejected(f"malformed JSON: {exc.msg} at {where}") from None
    except RecursionError:
        raise DocumentRejected("malformed JSON: nested too deeply") from None


class TooDeep:
    """An element of a record list nested too deeply to be read: it stands in for that one record."""

    def __init__(self, raw: str) -> None:
        self.raw = raw

    def __repr__(self) -> str:
        return f"TooDeep({self.raw[:40]!r}…)"


RAW_LIMIT = 64 * 1024  # a too-deep record's raw text kept for the quarantine, at most


def load_records(body: bytes, key: str | None = None) -> Any:
    """Like :func:`load`, but a record nested too deeply costs only itself.

    The records are the elements of the top-level array, or of the array under ``key`` in a top-level
    object. When the document as a whole is too deep to parse, each of those elements is parsed on
    its own; one that is still too deep becomes a :class:`TooDeep` in its place (the caller rejects
    that record, the others go in). The object's other keys are then dropped.
    """
    try:
        return load(body)
    except DocumentRejected as exc:
        if "nested too deeply" not in str(exc):
            raise
    text = body.decode("utf-8")  # load() has shown it is UTF-8
    start = _array_start(text, key)
    if start is None:
        raise DocumentRejected("malformed JSON: nested too deeply")
    items: list[Any] = []
    for begin, end in _elements(text, start):
        piece = text[begin:end]
        try:
            items.append(json.loads(piece))
        except RecursionError:
            items.append(TooDeep(piece[:RAW_LIMIT]))
        except json.JSONDecodeError as exc:
            raise DocumentRejected(f"malformed JSON: {exc.msg} in a record") from None
    return items if text.lstrip()[:1] == "[" else {key: items}


def _skip_ws(text: str, i: int) -> int:
    while i < len(text) and text[i] in " \t\r\n\ufeff":
        i += 1
    return i


def _string_end(text: str, i: int) -> int:
    """The index just after the string whose opening quote is at ``i``."""
    i += 1
    while i < len(text):
        c = text[i]
        if c == "\\":
            i += 2
            continue
        if c == '"':
            return i + 1
        i += 1
    raise DocumentRejected("malformed JSON: unterminated string")


def _array_start(text: str, key: str | None) -> int | None:
    """The index of the ``[`` opening the records (see :func:`load_records`)."""
    i = _skip_ws(text, 0)
    if text[i : i + 1] == "[":
        return i
    if text[i : i + 1] != "{" or key is None:
        return None
    depth, last, i = 0, None, i
    while i < len(text):
        c = text[i]
        if c == '"':
            end = _string_end(text, i)
            last = text[i:end]
            i = end
            continue
        if c in "[{":
            if depth == 1 and c == "[" and last is not None and json.loads(last) == key:
                return i
            depth += 1
        elif c in "]}":
            depth -= 1
        elif c == ",":
            last = None
        i += 1
    return None


def _elements(text: str, start: int) -> list[tuple[int, int]]:
    """The (begin, end) spans of the elements of the array opening at ``start``."""
    spans: list[tuple[int, int]] = []
    depth, begin, i = 0, None, start + 1
    while i < len(text):
        c = text[i]
        if c == '"':
            if begin is None:
                begin = i
            i = _string_end(text, i)
            continue
        if depth == 0 and c in ",]":
            if begin is not None:
                spans.append((begin, i))
            begin = None
            if c == "]":
                return spans
        elif c in "[{":
            depth += 1
            begin = i if begin is None else begin
        elif c in "]}":
            depth -= 1
        elif begin is None and c not in " \t\r\n":
            begin = i
        i += 1
    raise DocumentRejected("malformed JSON: unterminated array")
