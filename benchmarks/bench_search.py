"""The case search (data.search) at scale, beside a plain ``LIKE '%…%'`` scan measured in the same run.

    python benchmarks/bench_search.py [--cases 100000] [--database sqlite|postgresql] [--url URL]
                                      [--repeat 5] [--keep]

Builds a fresh database: SQLite in a temporary folder, or PostgreSQL (``--database postgresql``: the URL
given, else ``GRIDCC_TEST_DATABASE_URL``) in a private schema ``bench_search_<random>`` that is dropped at
the end (``--keep`` keeps it; nothing else in that database is touched). The schema is migrated (so the
full-text index — FTS5, or the GIN tsvector — is in place and maintained while the cases go in, as the
ingest does), then ``--cases`` cases are inserted in batches: real 铜梁区 street and community names, road
names and house numbers in the addresses, descriptions from the sample's templates (one in ten with a
phone number in its text), a reporter's phone on half of them; each row's ``search_terms`` and
``phone_hash`` computed as the ingest computes them (:func:`data.search.search_columns`).

Then, for a case number, four address / description words (rare → common) and a phone, it times
:func:`data.search.search_cases` over the district (the newest 200 matches) and the same question as a
plain scan: ``LIKE '%…%'`` on the number, on the title, description and address, on the stored phone
(the plain-text phone scan gridcc never does; only a baseline), with the same scope, order and limit.
Median of ``--repeat`` runs after one warm-up; the rows found by both are compared. Two figures each: the
SQL alone (the ids of the newest 200 matches) and the whole call, which also builds the table rows
(names, map places: :func:`data.queries.common.case_rows`, the same for both).
``--reuse FILE`` times the questions on a SQLite file an earlier run left (its folder is kept).
"""

from __future__ import annotations

import argparse
import csv
import os
import random
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, Table, func, insert, or_, select, text
from sqlalchemy.orm import Session

from data import migrate
from data.db import make_engine
from data.models import Case
from data.names import community_short_name
from data.queries.common import CASE_ROW_COLUMNS, case_rows
from data.scope import AreaScope
from data.search import phone_hash, search_cases, search_columns
from data.search.query import number_clause, words_clause

DISTRICT = "500151"
OPEN = ("in_progress", "accepted")
NOW = datetime(2025, 11, 20, 2, 0, tzinfo=UTC)
KEY = b"bench phone search key"
GEO = Path(__file__).resolve().parents[1] / "data" / "resources" / "geo"
ROADS = [f"{w}{k}" for w in ("玉泉", "龙城", "金龙", "巴川", "中兴", "营盘", "白龙", "凤山", "南门", "东林",
                              "西郊", "白象", "双龙", "清源", "西湖", "黄桷", "石鱼", "安溪", "永嘉", "龙门")
         for k in ("路", "大道", "街", "巷")]  # fmt: skip
PROBLEMS = [
    ("城市管理", ["{x}附近有占道经营现象，影响通行。", "群众反映{x}路段乱堆乱放，请求处理。",
                 "{x}井盖缺失，存在安全隐患。", "{x}有违章搭建。"]),
    ("生态环境", ["{x}夜间噪声扰民严重，影响居民休息。", "群众反映{x}污水外溢，气味较大。",
                 "{x}垃圾清运不及时。"]),
    ("安全隐患", ["{x}消防通道被占用。", "网格员巡查发现{x}燃气管道老化，已现场告知。",
                 "{x}危房存在垮塌隐患。"]),
    ("矛盾纠纷", ["邻居之间因{x}漏水发生争执，请求社区调解。", "{x}物业纠纷，群众情绪较大。",
                 "{x}劳资纠纷，工人讨薪。"]),
    ("民生服务", ["{x}独居老人需要养老帮扶。", "{x}居民申请临时救助，请协助办理。"]),
]  # fmt: skip


def places() -> list[tuple[str, str, str, str]]:
    """(street code, street name, community code, community name) of the district's real communities."""
    with (GEO / "chongqing_streets.csv").open(encoding="utf-8") as fh:
        streets = {r["code"]: r["name"] for r in csv.DictReader(fh) if r["district_code"] == DISTRICT}
    with (GEO / "chongqing_communities.csv").open(encoding="utf-8") as fh:
        rows = [r for r in csv.DictReader(fh) if r["district_code"] == DISTRICT]
    return [
        (r["street_code"], streets[r["street_code"]], r["code"], community_short_name(r["name"]))
        for r in rows
    ]


def phone(rng: random.Random) -> str:
    return f"1{rng.choice('3456789')}{rng.randrange(10**9):09d}"


def make_rows(
    n: int, start: int, rng: random.Random, where: list[tuple[str, str, str, str]]
) -> list[dict[str, Any]]:
    rows = []
    for i in range(start, start + n):
        street, street_name, community, community_name = rng.choice(where)
        category, templates = rng.choice(PROBLEMS)
        address = f"{street_name}{community_name}{rng.choice(ROADS)}{rng.randint(1, 299)}号"
        description = rng.choice(templates).format(x=address)
        if rng.random() < 0.1:
            description += f"联系电话{phone(rng)}"
        reporter = phone(rng) if rng.random() < 0.5 else None
        title = f"{category}：{community_name}"
        requested = NOW - timedelta(minutes=rng.randrange(60 * 24 * 730))
        status = rng.choice(("closed", "closed", "closed", "resolved", "in_progress", "accepted"))
        row = {
            "feed_name": "bench", "external_id": f"12345-{requested:%Y%m%d}-{i:07d}", "source": "12345",
            "category_name": category, "priority": "normal", "status": status, "source_status": "",
            "title": title, "description": description, "address": address, "placement": "address",
            "reporter_phone": reporter, "requested_at": requested, "is_open": status in OPEN,
            "due_soon": False, "overdue": False, "escalation_level": "community", "supervision": "none",
            "created_at": requested, "modified_at": requested, "district_code": DISTRICT,
            "street_code": street, "community_code": community,
        }  # fmt: skip
        row.update(search_columns(title, description, address, reporter, KEY))
        rows.append(row)
    return rows


def load(engine: Engine, n: int, batch: int) -> tuple[float, float]:
    """Insert ``n`` cases; returns (seconds computing the rows, seconds inserting them)."""
    rng = random.Random(13)
    where = places()
    table: Table = Case.__table__  # type: ignore[assignment]
    made = put = 0.0
    for start in range(0, n, batch):
        t = time.perf_counter()
        rows = make_rows(min(batch, n - start), start, rng, where)
        made += time.perf_counter() - t
        t = time.perf_counter()
        with engine.begin() as conn:
            conn.execute(insert(table), rows)
        put += time.perf_counter() - t
        done = start + len(rows)
        if done % (batch * 10) == 0 or done == n:
            print(
                f"  {done:>9,} cases  ({made:.0f} s making rows, {put:.0f} s inserting with the index)",
                flush=True,
            )
    with engine.begin() as conn:
        conn.execute(text("ANALYZE" if engine.dialect.name == "sqlite" else 'ANALYZE "case"'))
    return made, put


def median_ms(fn: Callable[[], Any], repeat: int) -> tuple[float, Any]:
    result = fn()  # warm-up
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        result = fn()
        times.append((time.perf_counter() - t) * 1000)
    return statistics.median(times), result


def newest_ids(session: Session, scope: AreaScope, clause: Any) -> list[int]:
    """The SQL alone: ids of the newest 200 matches of ``clause`` in scope."""
    query = (
        select(Case.id)
        .where(scope.clause(Case), clause)
        .order_by(Case.requested_at.desc(), Case.id.desc())
        .limit(200)
    )
    return list(session.scalars(query))


def index_clause(session: Session, kind: str, q: str) -> Any:
    if kind == "number":
        return number_clause(q)
    if kind == "phone":
        return Case.phone_hash == phone_hash(q, KEY)
    return words_clause(session, q)


def like_scan(session: Session, scope: AreaScope, columns: list[Any], needle: str) -> list[int]:
    """The baseline: ``LIKE '%needle%'`` on the columns, same scope, order and limit as the search, its
    rows made into table rows the same way (:func:`data.queries.common.case_rows`)."""
    pattern = f"%{needle}%"
    query = (
        select(*CASE_ROW_COLUMNS)
        .where(scope.clause(Case), or_(*(c.like(pattern) for c in columns)))
        .order_by(Case.requested_at.desc(), Case.id.desc())
        .limit(201)
    )
    return [r.id for r in case_rows(session, session.execute(query).all()[:200], NOW)]


def pick(session: Session) -> dict[str, str]:
    """A number, a phone and words to look for, taken from stored cases."""
    middle = session.scalar(select(func.max(Case.id))) // 2  # type: ignore[operator]
    number = session.scalar(select(Case.external_id).where(Case.id == middle))
    reporter = session.scalar(
        select(Case.reporter_phone).where(Case.id >= middle, Case.reporter_phone.is_not(None)).limit(1)
    )
    address = session.scalar(select(Case.address).where(Case.id == middle + 1)) or ""
    return {"number": number or "", "phone": reporter or "", "address": address}


def run(engine: Engine, repeat: int) -> None:
    scope = AreaScope.district(DISTRICT)
    with Session(engine) as s:
        total = s.scalar(select(func.count()).select_from(Case))
        chosen = pick(s)
        house = chosen["address"]
        road = next(r for r in ROADS if r in house)
        words = [
            ("words: an address (street+community+road+no.)", house),
            ("words: a road and house number", house[house.index(road) :]),
            ("words: a road", road),
            ("words: a 2-character word (井盖)", "井盖"),
            ("words: a common 2-character word (纠纷)", "纠纷"),
        ]
        texts = [Case.title, Case.description, Case.address]
        questions: list[tuple[str, str, str, list[Any]]] = [
            ("number", "number", chosen["number"], [Case.external_id]),
            *((label, "words", q, texts) for label, q in words),
            (
                "phone (keyed hash) vs LIKE on the stored phone",
                "phone",
                chosen["phone"],
                [Case.reporter_phone],
            ),
        ]
        print(f"\n{engine.dialect.name}: {total:,} cases; the newest 200 matches of each, median of {repeat}")
        print("SQL alone (ids):")
        print(f"{'question':<50} {'query':<30} {'found':>6} {'index ms':>9} {'LIKE ms':>9} {'×':>7}  same")
        for label, kind, q, columns in questions:
            clause = index_clause(s, kind, q)
            pattern = or_(*(c.like(f"%{q}%") for c in columns))

            def by_index(c: Any = clause) -> list[int]:
                return newest_ids(s, scope, c)

            def by_like(c: Any = pattern) -> list[int]:
                return newest_ids(s, scope, c)

            ms, ids = median_ms(by_index, repeat)
            base_ms, base = median_ms(by_like, repeat)
            same = "yes" if ids == base else f"no ({len(set(ids) & set(base))} shared)"
            ratio = base_ms / max(ms, 0.001)
            print(f"{label:<50} {q[:28]:<30} {len(ids):>6} {ms:>9.1f} {base_ms:>9.1f} {ratio:>7.1f}  {same}")
        print("the whole call (search_cases, with the table rows built):")
        print(f"{'question':<50} {'query':<30} {'found':>6} {'search ms':>9} {'LIKE ms':>9} {'×':>7}  same")
        for label, _kind, q, columns in questions:

            def indexed(q: str = q) -> Any:
                return search_cases(s, scope, q, may_search_phone=True, phone_key=KEY, now=NOW)

            def scanned(q: str = q, c: list[Any] = columns) -> list[int]:
                return like_scan(s, scope, c, q)

            ms, found = median_ms(indexed, repeat)
            base_ms, base = median_ms(scanned, repeat)
            ids = [r.id for r in found.rows]
            same = "yes" if ids == base else f"no ({len(set(ids) & set(base))} shared)"
            ratio = base_ms / max(ms, 0.001)
            print(f"{label:<50} {q[:28]:<30} {len(ids):>6} {ms:>9.1f} {base_ms:>9.1f} {ratio:>7.1f}  {same}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--database", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--url", default="", help="PostgreSQL URL (default: GRIDCC_TEST_DATABASE_URL)")
    parser.add_argument("--batch", type=int, default=20_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument(
        "--keep", action="store_true", help="keep the PostgreSQL schema (a SQLite folder is always kept)"
    )
    parser.add_argument("--reuse", default="", help="time the questions on this SQLite file (no load)")
    args = parser.parse_args()
    schema = admin = None
    if args.reuse:
        engine = make_engine(f"sqlite:///{args.reuse}")
        run(engine, args.repeat)
        engine.dispose()
        return
    if args.database == "sqlite":
        folder = tempfile.mkdtemp(prefix="gridcc-bench-search-")
        url = f"sqlite:///{Path(folder) / 'bench.db'}"
    else:
        base = args.url or os.environ.get("GRIDCC_TEST_DATABASE_URL", "")
        if not base:
            raise SystemExit("--database postgresql needs --url or GRIDCC_TEST_DATABASE_URL")
        schema = f"bench_search_{uuid.uuid4().hex[:10]}"
        admin = make_engine(base)
        with admin.begin() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
        url = f"{base}{'&' if '?' in base else '?'}options=-csearch_path%3D{schema}"
        print(f"schema {schema}")
    engine = make_engine(url)
    try:
        migrate.upgrade(engine)
        print(f"loading {args.cases:,} cases into {engine.dialect.name}")
        made, put = load(engine, args.cases, args.batch)
        rate = args.cases / max(put, 0.001)
        print(
            f"rows made in {made:.1f} s; inserted (index kept by the database) in {put:.1f} s, {rate:,.0f}/s"
        )
        run(engine, args.repeat)
    finally:
        engine.dispose()
        if admin is not None and schema is not None:
            if not args.keep:
                with admin.begin() as conn:
                    conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
            admin.dispose()


if __name__ == "__main__":
    main()
