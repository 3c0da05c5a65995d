"""合并: cases that are one matter reported through several channels, linked as one group.

One row per merged case: the case (``case_id``) and the group's primary case (``primary_id``, the
earliest report; it has no row of its own). The primary is counted in 受理; the others are
not, but keep their own timelines and departments. A row is written only when a person confirms a
suggestion (:mod:`data.merge`), and deleted when the merge is undone; both are audited.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, UTCDateTime, utcnow


class CaseMerge(Base):
    __tablename__ = "case_merge"

    case_id: Mapped[int] = mapped_column(ForeignKey("case.id", ondelete="CASCADE"), primary_key=True)
    primary_id: Mapped[int] = mapped_column(ForeignKey("case.id", ondelete="CASCADE"), index=True)
    merged_by: Mapped[str] = mapped_column(String(100))
    merged_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
