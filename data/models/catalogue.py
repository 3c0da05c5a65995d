"""Departments and case categories (seeded from data/resources/catalogue.toml)."""

from __future__ import annotations

from sqlalchemy import ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base

PRIORITIES = ("urgent", "normal", "complex")


class Department(Base):
    __tablename__ = "department"

    code: Mapped[str] = mapped_column(String(40), primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    name_en: Mapped[str] = mapped_column(String(100), default="")


class Category(Base):
    """A case category with its lead department and its time limit (hours) per priority."""

    __tablename__ = "category"

    code: Mapped[str] = mapped_column(String(40), primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    name_en: Mapped[str] = mapped_column(String(100), default="")
    parent_code: Mapped[str | None] = mapped_column(String(40), ForeignKey("category.code"), index=True)
    lead_department_code: Mapped[str | None] = mapped_column(String(40), ForeignKey("department.code"))
    limit_urgent_hours: Mapped[int] = mapped_column(Integer, default=24)
    limit_normal_hours: Mapped[int] = mapped_column(Integer, default=120)
    limit_complex_hours: Mapped[int] = mapped_column(Integer, default=360)

    def limit_hours(self, priority: str) -> int:
        return {
            "urgent": self.limit_urgent_hours,
            "normal": self.limit_normal_hours,
            "complex": self.limit_complex_hours,
        }[priority]
