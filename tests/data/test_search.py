"""The case search (data.search): by number, by words (Chinese, no spaces), by phone (keyed hash), in
scope only; on SQLite (FTS5) and PostgreSQL (GIN tsvector) alike (the ``session_factory`` fixture)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from data import migrate
from data.case_filter import CaseFilter
from data.db import make_engine
from data.models import Case
from data.scope import AreaScope
from data.search import document_terms, kind_of, phone_digits, phone_hash, query_terms, search_cases
from data.search.terms import search_columns
from tests.data.helpers import Units, add_case, build_units

NOW = datetime(2025, 6, 15, 2, 0, tzinfo=UTC)
H = timedelta(hours=1)
KEY = b"test phone search key"
PHONE = "13912345678"


def _case(
    session: Session,
    grid: str,
    n: int,
    texts: tuple[str, str, str],
    *,
    phone: str | None = None,
    status: str = "accepted",
    external_id: str | None = None,
) -> Case:
    c = add_case(session, grid, NOW - n * H, status=status, external_id=external_id)
    c.title, c.description, c.address = texts
    c.reporter_phone = phone
    for name, value in search_columns(*texts, phone, KEY).items():
        setattr(c, name, value)
    session.flush()
    return c


@pytest.fixture
def world(session_factory) -> Iterator[tuple[Session, Units, dict[str, int]]]:
    session = session_factory()
    u = build_units(session)
    a, b = u.grids[0], u.grids[5]  # a: the first street, b: the second
    manhole = ("井盖缺失", "沙坝村第5网格路口井盖缺失，联系人13700001111", "巴川街道沙坝村12号")
    noise = ("噪声扰民", "夜间施工噪声", "巴川街道玉泉路8号")
    rubbish = ("垃圾堆放", "小区门口垃圾", "沙坝村3号")
    elsewhere = ("井盖破损", "井盖松动", "东城街道沙坝村9号")
    ids = {
        "manhole": _case(session, a, 1, manhole, phone=PHONE, external_id="12345-2025-000123").id,
        "noise": _case(session, a, 2, noise, phone="023-61234567").id,
        "closed": _case(session, a, 3, rubbish, status="closed", external_id="CLOSED-1").id,
        "other_street": _case(session, b, 4, elsewhere, phone=PHONE, external_id="OTHER-77").id,
    }
    session.commit()
    yield session, u, ids
    session.close()


def _ids(result) -> set[int]:
    return {r.id for r in result.rows}


def _search(session: Session, scope: AreaScope, q: str, may: bool = True, **kw):
    return search_cases(session, scope, q, may_search_phone=may, phone_key=KEY, now=NOW, **kw)


def test_terms_are_bigrams_and_words_without_phones() -> None:
    assert query_terms("沙坝村") == [(["沙坝", "坝村"], False)]
    assert query_terms("第5网格") == [(["第5", "5网", "网格"], False)]
    assert query_terms("ＡＢＣ井盖") == [(["abc井", "井盖"], False)]  # full width folded, case folded
    assert query_terms("沙坝村 井") == [(["沙坝", "坝村"], False), (["井"], True)]
    stored = document_terms("井盖", "联系电话13912345678，身份证500101199001011234", "沙坝村")
    assert "13912345678" not in stored and "500101199001011234" not in stored
    assert "井盖" in stored.split() and "坝村" in stored.split()


def test_phone_digits_and_keyed_hash() -> None:
    for spelled in ("13912345678", "139 1234 5678", "+86 139-1234-5678", "0086 13912345678"):
        assert phone_digits(spelled) == PHONE, spelled
    assert phone_digits("(023)61234567") == "02361234567"
    assert phone_digits("12345") is None
    assert phone_hash(PHONE, KEY) == phone_hash("+86 139 1234 5678", KEY)
    assert phone_hash(PHONE, KEY) != phone_hash(PHONE, b"another key")
    assert PHONE not in (phone_hash(PHONE, KEY) or "")
    assert phone_hash(PHONE, None) is None


def test_kind_of() -> None:
    assert kind_of("13912345678") == "phone"
    assert kind_of("023-61234567") == "phone"
    assert kind_of("12345-2025-000123") == "number"
    assert kind_of("42") == "number"
    assert kind_of("沙坝村 井盖") == "words"
    assert kind_of("   ") == ""


def test_by_number(world) -> None:
    session, u, ids = world
    scope = AreaScope.district(u.district)
    found = _search(session, scope, " 12345-2025-000123 ")
    assert found.kind == "number" and _ids(found) == {ids["manhole"]}
    assert _ids(_search(session, scope, str(ids["noise"]))) == {ids["noise"]}  # gridcc's own id


def test_by_words_chinese_without_spaces(world) -> None:
    session, u, ids = world
    scope = AreaScope.district(u.district)
    assert _ids(_search(session, scope, "井盖")) == {ids["manhole"], ids["other_street"]}
    assert _ids(_search(session, scope, "沙坝村")) == {ids["manhole"], ids["closed"], ids["other_street"]}
    assert _ids(_search(session, scope, "玉泉路")) == {ids["noise"]}
    assert _ids(_search(session, scope, "第5网格")) == {ids["manhole"]}
    assert _ids(_search(session, scope, "沙村")) == set()  # not adjacent: no phrase
    assert _ids(_search(session, scope, "12号")) == {ids["manhole"]}
    assert _ids(_search(session, scope, "噪")) == {ids["noise"]}  # one character: a prefix
    assert _ids(_search(session, scope, "扰民 玉泉")) == {ids["noise"]}  # both segments
    assert _ids(_search(session, scope, "扰民 沙坝")) == set()
    found = _search(session, scope, "垃圾")  # a closed case is found too
    assert _ids(found) == {ids["closed"]} and found.rows[0].status == "closed"


def test_words_never_find_a_phone(world) -> None:
    """The words index holds no phone: a viewer refused the phone search cannot get round it."""
    session, u, _ids_ = world
    scope = AreaScope.district(u.district)
    assert _search(session, scope, "13700001111", may=False).rows == []
    assert _search(session, scope, "联系人13700001111", may=False).rows == []


def test_by_phone_only_when_allowed(world) -> None:
    session, u, ids = world
    scope = AreaScope.district(u.district)
    found = _search(session, scope, "+86 139-1234-5678")
    assert found.kind == "phone" and _ids(found) == {ids["manhole"], ids["other_street"]}
    assert _ids(_search(session, scope, "(023) 6123 4567")) == {ids["noise"]}
    refused = _search(session, scope, PHONE, may=False)
    assert refused.refused and refused.rows == []


def test_scope_forged_number_and_phone_find_nothing(world) -> None:
    """A street's officer searching another street's case number, phone or words gets nothing."""
    session, u, ids = world
    first_street = AreaScope.of([u.streets[0]])
    assert _search(session, first_street, "OTHER-77").rows == []
    assert _search(session, first_street, str(ids["other_street"])).rows == []
    assert _ids(_search(session, first_street, PHONE)) == {ids["manhole"]}
    assert ids["other_street"] not in _ids(_search(session, first_street, "井盖"))
    assert _search(session, AreaScope(frozenset()), "井盖").rows == []


def test_filters_apply(world) -> None:
    session, u, ids = world
    scope = AreaScope.district(u.district)
    only_first = CaseFilter(street=u.streets[0])
    assert _ids(_search(session, scope, "井盖", filters=only_first)) == {ids["manhole"]}
    only_closed = CaseFilter(statuses=("closed",))
    assert _ids(_search(session, scope, "沙坝村", filters=only_closed)) == {ids["closed"]}


def test_index_follows_updates_and_deletes(world) -> None:
    session, u, ids = world
    scope = AreaScope.district(u.district)
    case = session.get(Case, ids["noise"])
    assert case is not None
    case.search_terms = document_terms("噪声扰民", "广场舞音响", "龙城大道1号")
    session.commit()
    assert _ids(_search(session, scope, "广场舞")) == {ids["noise"]}
    assert _search(session, scope, "玉泉路").rows == []
    session.delete(case)
    session.commit()
    assert _search(session, scope, "广场舞").rows == []


def test_migration_fills_stored_cases(database_url: str) -> None:
    """Cases stored before 0009 get their terms (and, with the key, phone hashes) and are found."""
    engine = make_engine(database_url)
    migrate.upgrade(engine, "0006")
    with engine.begin() as conn:
        conn.execute(
            text(
                'INSERT INTO "case" (feed_name, external_id, source, category_name, priority, status, '
                "source_status, title, description, address, placement, reporter_phone, requested_at, "
                "is_open, due_soon, overdue, escalation_level, supervision, created_at, modified_at, "
                "district_code) VALUES ('f', 'OLD-1', '12345', '', 'normal', 'accepted', '', '旧案', "
                "'桥下积水', '巴川街道', 'unplaced', :phone, :at, true, false, false, 'community', 'none', "
                ":at, :at, '500151')"
            ),
            {"phone": PHONE, "at": NOW},
        )
    migrate.upgrade(engine, phone_search_key=KEY)
    from sqlalchemy.orm import Session as S

    with S(engine) as session:
        scope = AreaScope.district("500151")
        assert [r.external_id for r in _search(session, scope, "积水").rows] == ["OLD-1"]
        assert [r.external_id for r in _search(session, scope, PHONE).rows] == ["OLD-1"]
        assert session.scalar(select(Case.phone_hash)) == phone_hash(PHONE, KEY)
    migrate.downgrade(engine, "0006")
    engine.dispose()


def test_cli_rebuild_search_fills_a_bulk_load_and_rehashes(world, database_url: str, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """``gridcc db rebuild-search`` fills cases written without the columns (found afterwards, by words
    and by phone with the server's key); a second run changes nothing; ``--phones`` re-hashes with a new
    key."""
    import re

    from click.testing import CliRunner

    from data.settings import Settings
    from gridcc.cli import main

    session, u, ids = world
    session.execute(text('UPDATE "case" SET search_terms = NULL, phone_hash = NULL'))
    session.commit()
    scope = AreaScope.district(u.district)
    assert _search(session, scope, "玉泉路").rows == []

    def run(*args: str, key: str = "first key") -> int:
        env = {
            "GRIDCC_DATABASE_URL": database_url,
            "GRIDCC_DATA_DIR": str(tmp_path),
            "GRIDCC_PHONE_SEARCH_KEY": key,
        }
        result = CliRunner().invoke(main, ["db", "rebuild-search", *args], env=env)
        assert result.exit_code == 0, result.output
        return int(re.findall(r"\d+", result.output)[-1])

    assert run() == 4
    assert run() == 0
    session.expire_all()
    assert _ids(_search(session, scope, "玉泉路")) == {ids["noise"]}
    first = Settings(phone_search_key="first key").phone_search_key_bytes()
    by_phone = search_cases(session, scope, PHONE, may_search_phone=True, phone_key=first)
    assert _ids(by_phone) == {ids["manhole"], ids["other_street"]}
    assert run("--phones", key="second key") == 3  # the three cases with a phone
    session.expire_all()
    second = Settings(phone_search_key="second key").phone_search_key_bytes()
    assert search_cases(session, scope, PHONE, may_search_phone=True, phone_key=first).rows == []
    assert len(search_cases(session, scope, PHONE, may_search_phone=True, phone_key=second).rows) == 2


def test_query_syntax_is_text_never_an_operator(world) -> None:  # type: ignore[no-untyped-def]
    """FTS5 and tsquery operators in a query are only characters: no error, no widening."""
    session, u, ids = world
    scope = AreaScope.district(u.district)
    for hostile in (
        '井盖" OR "*',
        "井盖 | 噪声",
        "井盖:* & !噪声",
        "NEAR(井盖 噪声)",
        "'; DROP TABLE case; --",
        "*",
    ):
        result = _search(session, scope, hostile)
        assert ids["noise"] not in _ids(result), hostile
    assert _ids(_search(session, scope, '"井盖"')) == {ids["manhole"], ids["other_street"]}
