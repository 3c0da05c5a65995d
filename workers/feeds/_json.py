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
