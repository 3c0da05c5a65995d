"""Why a desk action was refused: a text catalogue key (``desk_err_<code>``) and its values, so the
screen says it in the page's language; ``str()`` is an English sentence for logs and the console."""

from __future__ import annotations

from typing import Any


class DeskRefused(ValueError):
    """The action cannot be taken as asked (a field too long, an unknown category, a place outside the
    account's scope …). Nothing was written."""

    def __init__(self, code: str, message: str, **values: Any) -> None:
        super().__init__(message)
        self.code = code
        self.values = values


class AlertNotFound(LookupError):
    """No such alert in the account's scope, or not one that can still be acted on (a case outside the
    scope is not found, not forbidden)."""
