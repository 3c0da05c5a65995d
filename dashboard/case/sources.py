"""Who a case came from, by name: department codes and feed names → the department's name in the page's
language ("grid_patrol" → 网格巡查 / Grid patrol), for the case's source and its timeline; ``desk`` (a case
filed at the duty desk, :mod:`data.desk`) → 值班台登记 / Duty desk."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from data.desk import DESK_FEED
from data.models import Department, Feed
from data.text import pick, t


def source_names(session: Session, lang: str) -> dict[str, str]:
    query = select(Department.code, Department.name, Department.name_en)
    departments = {code: pick(lang, name, name_en) for code, name, name_en in session.execute(query)}
    feeds = session.execute(select(Feed.name, Feed.department_code)).tuples().all()
    named = {feed: departments[dep] for feed, dep in feeds if dep in departments}
    return {**departments, **named, DESK_FEED: t("desk_source", lang)}  # a case filed at the duty desk
