"""Open risks of the risk ledger (风险台账) as points; a risk past its closing date is overdue."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from data.masking import mask_personal_text
from data.models import Risk
from data.scope import AreaScope

from .cases import short_text
from .encoding import feature_collection


def build_risks(
    session: Session, scope: AreaScope, now: datetime | None = None, text_mode: str = "masked"
) -> dict[str, Any]:
    """Open (not closed 销号) risks with a location in the scope, as GeoJSON points; the title and owner
    (free text) as ``text_mode`` says (:func:`data.masking.mask_personal_text`)."""
    now = now or datetime.now(UTC)
    rows = session.scalars(
        select(Risk)
        .where(Risk.closed_at.is_(None), Risk.lon.is_not(None), Risk.lat.is_not(None), scope.clause(Risk))
        .order_by(Risk.id)
    ).all()
    features = []
    for risk in rows:
        features.append(
            {
                "type": "Feature",
                "geometry": {
                    "type": "Point",
                    "coordinates": [round(risk.lon or 0, 6), round(risk.lat or 0, 6)],
                },
                "properties": {
                    "id": risk.id,
                    "kind": risk.kind,
                    "level": risk.level,
                    "title": short_text(mask_personal_text(risk.title, text_mode), 60),
                    "owner": short_text(mask_personal_text(risk.owner, text_mode), 40),
                    "due": int(risk.due_at.timestamp()) if risk.due_at else None,
                    "overdue": bool(risk.due_at is not None and risk.due_at < now),
                },
            }
        )
    return feature_collection(features)
