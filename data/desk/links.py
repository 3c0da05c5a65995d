"""The alerts a case was made from (预警转案件: ``alert.case_id``), for the case page's facts."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..models import Alert


@dataclass(frozen=True)
class LinkedAlert:
    id: int
    headline: str  # the feed's words (mask them for the viewer)
    state: str


def alerts_of_case(session: Session, case_id: int) -> list[LinkedAlert]:
    """The alerts linked to the case, oldest first (the caller has found the case in the viewer's scope)."""
    rows = session.execute(
        select(Alert.id, Alert.headline, Alert.event, Alert.state)
        .where(Alert.case_id == case_id)
        .order_by(Alert.id)
    )
    return [LinkedAlert(r.id, r.headline or r.event, r.state) for r in rows]
