"""Who a case came from, by name: department codes and feed names → the department's name in the page's
language ("grid_patrol" → 网格巡查 / Grid patrol), for the case's source and its timeline."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from data.models import Department, Feed


def source_names(session: Session, lang: str) -> dict[str, str]:
    en = lang == "en"
    query = select(Department.code, Department.name, Department.name_en)
    departments = {code: (name_en or name) if en else name for code, name, name_en in session.execute(query)}
    feeds = session.execute(select(Feed.name, Feed.department_code)).tuples().all()
    return {**departments, **{feed: departments[dep] for feed, dep in feeds if dep in departments}}
