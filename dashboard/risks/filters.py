"""The ledger's filters — kind, level, state, street — read from and written to the URL query, so a view
can be bookmarked; anything the URL holds that is not a known value (or a street outside the scope) is
dropped, never trusted."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from dash import html

from data.models import RISK_KINDS, RISK_LEVELS
from data.text import label

from ..components.select import search_select
from ..i18n import t

STATES = ("open", "overdue", "closed")
FILTER_IDS = ("risks-kind", "risks-level", "risks-state", "risks-street")
KEYS = ("kind", "level", "state", "street")


@dataclass(frozen=True)
class RiskFilter:
    kind: str | None = None
    level: str | None = None
    state: str | None = None
    street: str | None = None

    @classmethod
    def from_values(cls, kind: Any, level: Any, state: Any, street: Any) -> RiskFilter:
        return cls(
            kind=kind if kind in RISK_KINDS else None,
            level=level if level in RISK_LEVELS else None,
            state=state if state in STATES else None,
            street=street if isinstance(street, str) and street.isascii() and street.isdigit() else None,
        )

    @classmethod
    def from_query(cls, query: Mapping[str, str]) -> RiskFilter:
        return cls.from_values(*(query.get(k) for k in KEYS))

    def only_streets(self, streets: set[str]) -> RiskFilter:
        """Without a street that is not one of ``streets`` (the scope's)."""
        if self.street and self.street not in streets:
            return RiskFilter(self.kind, self.level, self.state, None)
        return self

    def search(self, query: Mapping[str, str]) -> str:
        """The URL query of this view, keeping the other keys (``lang``, ``tab``)."""
        kept = {k: v for k, v in query.items() if k not in KEYS}
        mine = {k: getattr(self, k) for k in KEYS if getattr(self, k)}
        text = urlencode({**kept, **mine})
        return "?" + text if text else ""


def _select(id_: str, name: str, placeholder: str, data: list[dict[str, str]], value: str | None) -> Any:
    shown = value if value in {d["value"] for d in data} else None
    return search_select(
        id_, data, placeholder, shown, class_name="duty-select", label=name, size="lg", z=2000
    )


def filter_bar(view: RiskFilter, streets: list[tuple[str, str]], lang: str) -> html.Div:
    return html.Div(
        [
            _select(
                "risks-kind",
                t("ledger_kind", lang),
                t("ledger_all", lang),
                [{"value": k, "label": label("risk_kind", k, lang)} for k in RISK_KINDS],
                view.kind,
            ),
            _select(
                "risks-level",
                t("ledger_level", lang),
                t("ledger_all", lang),
                [{"value": k, "label": label("risk_level", k, lang)} for k in RISK_LEVELS],
                view.level,
            ),
            _select(
                "risks-state",
                t("ledger_state", lang),
                t("ledger_all", lang),
                [{"value": s, "label": t(f"ledger_state_{s}", lang)} for s in STATES],
                view.state,
            ),
            _select(
                "risks-street",
                t("ledger_street", lang),
                t("ledger_all_streets", lang),
                [{"value": c, "label": n} for c, n in streets],
                view.street,
            ),
        ],
        className="duty-filters risks-filters",
    )
