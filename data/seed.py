"""Seed departments and categories from ``data/resources/catalogue.toml`` (idempotent upsert)."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from .models import Category, Department

CATALOGUE = Path(__file__).parent / "resources" / "catalogue.toml"


def load_catalogue(path: Path = CATALOGUE) -> dict[str, Any]:
    with path.open("rb") as fh:
        return tomllib.load(fh)


def seed_catalogue(session: Session, path: Path = CATALOGUE) -> tuple[int, int]:
    """Insert or update every department and category; returns (departments, categories)."""
    doc = load_catalogue(path)
    for row in doc["department"]:
        session.merge(Department(code=row["code"], name=row["name"], name_en=row.get("name_en", "")))
    session.flush()
    for row in doc["category"]:
        urgent, normal, complex_ = row["limits"]
        session.merge(
            Category(
                code=row["code"],
                name=row["name"],
                name_en=row.get("name_en", ""),
                parent_code=row.get("parent"),
                lead_department_code=row.get("lead"),
                limit_urgent_hours=urgent,
                limit_normal_hours=normal,
                limit_complex_hours=complex_,
            )
        )
        session.flush()
    return len(doc["department"]), len(doc["category"])
