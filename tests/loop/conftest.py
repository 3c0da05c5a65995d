"""A small world for the loop's tests: the catalogue, two streets, accounts of every role, a case in
each street (with a reporter's name and phone that must never leave gridcc)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import pytest
from sqlalchemy.orm import Session, sessionmaker

from data.auth import create_user, get_user
from data.db import transaction
from data.models import Case, UserAccount
from data.seed import seed_catalogue
from data.settings import Settings
from tests.layers.hierarchy import add_case, build_hierarchy

NOW = datetime(2025, 3, 3, 2, 0, tzinfo=UTC)  # a Monday, 10:00 in Shanghai
PASSWORD = "correct horse 9"
STREET_1, STREET_2 = "500151001", "500151002"


@dataclass
class World:
    factory: sessionmaker[Session]
    settings: Settings
    mine: int  # a case in street 1
    theirs: int  # a case in street 2

    def user(self, session: Session, name: str) -> UserAccount:
        user = get_user(session, name)
        assert user is not None
        return user


def make_world(factory: sessionmaker[Session], settings: Settings) -> World:
    with transaction(factory) as session:
        seed_catalogue(session)
        grids = build_hierarchy(session)
        create_user(session, "duty1", PASSWORD, "duty", STREET_1)
        create_user(session, "duty2", PASSWORD, "duty", STREET_2)
        create_user(session, "leader1", PASSWORD, "leader", "500151")
        create_user(session, "wall1", PASSWORD, "wall", "500151")
        create_user(session, "admin1", PASSWORD, "admin", "500151")
        mine = add_case(session, grids[0], external_id="mine")
        theirs = add_case(session, next(g for g in grids if g.startswith(STREET_2)), external_id="theirs")
        for case in (mine, theirs):
            case.reporter_name, case.reporter_phone = "张三", "13812345678"
            case.department_code, case.category_code, case.priority = (
                "city_management",
                "city.clutter",
                "normal",
            )
        session.flush()
        ids = (mine.id, theirs.id)
    return World(factory, settings, *ids)


@pytest.fixture
def world(session_factory: sessionmaker[Session], settings: Settings) -> World:
    return make_world(session_factory, settings)


def case_of(session: Session, case_id: int) -> Case:
    case = session.get(Case, case_id)
    assert case is not None
    return case
