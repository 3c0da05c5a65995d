"""The grid hierarchy (district → street → community → grid) and the people of a grid."""

from __future__ import annotations

from sqlalchemy import Boolean, Float, ForeignKey, Index, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, PlaceMixin

LEVELS = ("district", "street", "community", "grid")
CODE_LENGTH = {"district": 6, "street": 9, "community": 12, "grid": 15}
PARENT_LEVEL = {"street": "district", "community": "street", "grid": "community"}


def level_of_code(code: str) -> str:
    for level, length in CODE_LENGTH.items():
        if len(code) == length:
            return level
    raise ValueError(f"not a district/street/community/grid code: {code!r}")


class AdminUnit(PlaceMixin, Base):
    """One unit of the hierarchy. Geometry is WKB in WGS-84 (EPSG:4326)."""

    __tablename__ = "admin_unit"

    code: Mapped[str] = mapped_column(String(15), primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    level: Mapped[str] = mapped_column(String(10), index=True)
    parent_code: Mapped[str | None] = mapped_column(
        String(15), ForeignKey("admin_unit.code", ondelete="CASCADE"), index=True
    )
    geometry: Mapped[bytes | None] = mapped_column(LargeBinary)
    min_lon: Mapped[float | None] = mapped_column(Float)
    min_lat: Mapped[float | None] = mapped_column(Float)
    max_lon: Mapped[float | None] = mapped_column(Float)
    max_lat: Mapped[float | None] = mapped_column(Float)
    label_lon: Mapped[float | None] = mapped_column(Float)
    label_lat: Mapped[float | None] = mapped_column(Float)
    synthetic: Mapped[bool] = mapped_column(Boolean, default=False)

    __table_args__ = (Index("ix_admin_unit_level_bbox", "level", "min_lon", "max_lon", "min_lat", "max_lat"),)


class GridStaff(PlaceMixin, Base):
    """A grid's people: 网格员 grid worker, 网格长 grid chief, 网格党支部 party branch.

    The phone is personal data: stored, and masked on every screen unless the viewer's role may see it.
    """

    __tablename__ = "grid_staff"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    unit_code: Mapped[str] = mapped_column(
        String(15), ForeignKey("admin_unit.code", ondelete="CASCADE"), index=True
    )
    role: Mapped[str] = mapped_column(String(20))  # grid_worker | grid_chief | party_branch
    name: Mapped[str] = mapped_column(String(100))
    phone: Mapped[str | None] = mapped_column(String(30))
    synthetic: Mapped[bool] = mapped_column(Boolean, default=False)
