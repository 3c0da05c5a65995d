"""Categories and departments as the ingest sees them: which category a record names, which department
holds it, and its time limit by priority (loaded once per poll)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from data.models import Category, Department

from ..feeds.config import FeedConfig
from ..feeds.records import CaseRecord

DEFAULT_LIMITS = {"urgent": 24, "normal": 120, "complex": 360}


def priority_of(record: CaseRecord) -> str:
    """The record's priority when it is one we know, else ``normal``."""
    return record.priority if record.priority in DEFAULT_LIMITS else "normal"


class Catalogue:
    """Categories and departments, loaded once per poll."""

    def __init__(self, session: Session) -> None:
        categories = list(session.scalars(select(Category)))
        self.by_code = {c.code: c for c in categories}
        self.by_name = {c.name: c for c in categories}
        self.departments = set(session.scalars(select(Department.code)))
        self.department_limits: dict[str, dict[str, int]] = {}
        for c in categories:  # a department's default: the limits of a top-level category it leads
            if c.parent_code is None and c.lead_department_code:
                self.department_limits.setdefault(
                    c.lead_department_code,
                    {p: c.limit_hours(p) for p in DEFAULT_LIMITS},
                )

    def category(self, record: CaseRecord) -> Category | None:
        for key in (record.category_code, record.category_name):
            if key and (found := self.by_code.get(key) or self.by_name.get(key)):
                return found
        return None

    def department(self, record: CaseRecord, category: Category | None, feed: FeedConfig) -> str:
        if record.department in self.departments:
            return record.department
        if category is not None and category.lead_department_code:
            return category.lead_department_code
        return feed.department

    def limit_hours(self, category: Category | None, department: str, priority: str) -> int:
        if category is not None:
            return category.limit_hours(priority)
        return self.department_limits.get(department, DEFAULT_LIMITS)[priority]
