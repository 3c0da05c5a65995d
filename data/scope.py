"""Area scopes: the set of unit codes a query may see.

Every query function takes a scope, so that access control only has to choose the scope. Codes nest by
prefix (district 6 digits, street 9, community 12, grid 15); a row is in scope when the column of its
level equals a scope code.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, false, or_

from .models.places import CODE_LENGTH

_COLUMN_BY_LENGTH = {6: "district_code", 9: "street_code", 12: "community_code", 15: "grid_code"}


@dataclass(frozen=True)
class AreaScope:
    codes: frozenset[str]

    def __post_init__(self) -> None:
        for code in self.codes:
            if len(code) not in _COLUMN_BY_LENGTH or not code.isdigit():
                raise ValueError(f"not a district/street/community/grid code: {code!r}")

    @classmethod
    def of(cls, codes: Iterable[str] | str) -> AreaScope:
        if isinstance(codes, str):
            codes = [c for c in codes.replace(" ", ",").split(",") if c]
        return cls(frozenset(codes))

    @classmethod
    def district(cls, code: str) -> AreaScope:
        if len(code) != CODE_LENGTH["district"]:
            raise ValueError(f"not a district code: {code!r}")
        return cls(frozenset({code}))

    @property
    def key(self) -> str:
        """A stable string for cache keys (layer payloads are cached per scope)."""
        return ",".join(sorted(self.codes)) or "-"

    def contains(self, code: str | None) -> bool:
        """Whether a unit (by its code) lies in the scope."""
        if not code:
            return False
        return any(code.startswith(c) for c in self.codes)

    def overlaps(self, code: str) -> bool:
        """Whether the unit ``code`` is in scope or is an ancestor of something in scope."""
        return self.contains(code) or any(c.startswith(code) for c in self.codes)

    def clause(self, model: Any) -> ColumnElement[bool]:
        """A WHERE clause restricting ``model`` (any table with the place columns) to the scope."""
        if not self.codes:
            return false()
        terms = [getattr(model, _COLUMN_BY_LENGTH[len(c)]) == c for c in sorted(self.codes)]
        return or_(*terms)
