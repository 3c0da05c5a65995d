"""Keeping ``case_daily`` (:class:`data.models.CaseDaily`) equal to what the raw case rows say.

Why triggers: a case changes through the ingest, the ledger, the loop's actions, the deadline job, the
sample loader and tests; a delta applied by one of them and forgotten by another would make the wall
quietly wrong. A trigger on ``case`` runs in the writer's own transaction whoever the writer is, and it
sees the row before and after, so an update that moves a case between buckets (another day, street,
category, department; reopened; resolved late; out-of-order feed updates) takes its old contribution out
of the old bucket and puts the new one in the new bucket. SQLite gets row triggers (``UPDATE OF`` the
columns that matter, and only when one of them really changed); PostgreSQL gets statement triggers with
transition tables, so a bulk ``INSERT`` of a thousand cases is one grouped upsert, not a thousand.

Each case contributes to three rows: its cohort rows (keyed by the local day, ``span`` ``d``, and the
local month, ``span`` ``m``, it was *received*) with the period measures of :mod:`data.queries.kpis` and
:mod:`data.queries.rankings`, and — once it has a ``resolved_at`` — a ``resolved`` count keyed by the
local day it was *resolved* (the trend's closed line). A year is then twelve month rows per street,
category and department however many cases it holds; a ragged period adds the day rows at its ends.
The same contributions go to the district's own rows too (``span`` ``D`` and ``M``: street, category
and department ``''``), so a question about whole districts (the KPIs, the trend of a district or the
city) reads twelve rows a year per district, not one per street × category × department.
Days are Asia/Shanghai (:data:`ZONE`; UTC+8 all year since 1991, which SQLite's ``'+8 hours'`` uses).

``rebuild`` recomputes the table from the case rows in one statement (``gridcc db rebuild-aggregates``,
after a bulk load that went around the triggers, or to repair).
"""

from __future__ import annotations

from sqlalchemy import Connection, text

ZONE = "Asia/Shanghai"
TABLE = "case_daily"
KEYS = ("span", "day", "district_code", "street_code", "category_code", "department_code")
SPANS = ("d", "m", "D", "M")  # a local day; a local month (``day`` is its first day); D, M: district grain
DISTRICT_SPAN = {"d": "D", "m": "M"}
MEASURES = (
    "received", "done", "judged", "on_time", "rated", "satisfied", "strict", "still_open",
    "handled", "handling_s", "responded", "response_s", "resolved",
)  # fmt: skip
# the columns whose change can move a case's contribution (SQLite's UPDATE OF list)
WATCHED = (
    "requested_at", "resolved_at", "accepted_at", "deadline_at", "first_response_at", "status", "is_open",
    "satisfaction", "district_code", "street_code", "category_code", "department_code",
)  # fmt: skip
TRIGGERS = ("case_daily_insert", "case_daily_update", "case_daily_delete")
CASE = '"case"'
_SATISFIED = "'satisfied', 'basic'"  # data.queries.kpis.SATISFIED
_STRICT = "'satisfied'"


def _day(dialect: str, column: str, span: str = "d") -> str:
    """The local day (``d``) or the first day of the local month (``m``) of a UTC column."""
    if dialect == "sqlite":
        month = ", 'start of month'" if span in ("m", "M") else ""
        return f"date({column}, '+8 hours'{month})"
    if span in ("m", "M"):
        return f"CAST(date_trunc('month', {column} AT TIME ZONE '{ZONE}') AS date)"
    return f"CAST(({column} AT TIME ZONE '{ZONE}') AS date)"


def _seconds(dialect: str, start: str, end: str) -> str:
    if dialect == "sqlite":
        return f"((julianday({end}) - julianday({start})) * 86400.0)"
    return f"CAST(EXTRACT(EPOCH FROM ({end} - {start})) AS double precision)"


def _flag(condition: str) -> str:
    return f"(CASE WHEN {condition} THEN 1 ELSE 0 END)"


def contributions(dialect: str, p: str, sign: int, span: str = "d") -> tuple[str, str]:
    """The SELECT lists (no FROM) of a case row ``p``'s two contributions to ``span`` rows, each value
    times ``sign``: its cohort row, and its resolved row (to be selected only WHERE
    ``p.resolved_at IS NOT NULL``; the trend reads it from day rows only). ``D`` and ``M``: the
    district's rows (street, category and department ``''``)."""
    done = f"{p}.status IN ('resolved', 'closed')"
    judged = f"{done} AND {p}.resolved_at IS NOT NULL AND {p}.deadline_at IS NOT NULL"
    handled = f"{done} AND {p}.resolved_at IS NOT NULL AND {p}.accepted_at IS NOT NULL"
    responded_at = f"COALESCE({p}.first_response_at, {p}.resolved_at)"
    responded = f"{p}.accepted_at IS NOT NULL AND {responded_at} IS NOT NULL"
    keys = [
        f"COALESCE({p}.district_code, '')",
        f"COALESCE({p}.street_code, '')",
        f"COALESCE({p}.category_code, '')",
        f"COALESCE({p}.department_code, '')",
    ]
    if span in ("D", "M"):
        keys[1:] = ["''"] * 3
    cohort = [
        f"'{span}'",
        _day(dialect, f"{p}.requested_at", span),
        *keys,
        f"{sign}",
        f"{sign} * {_flag(done)}",
        f"{sign} * {_flag(judged)}",
        f"{sign} * {_flag(f'{judged} AND {p}.resolved_at <= {p}.deadline_at')}",
        f"{sign} * {_flag(f'{p}.satisfaction IS NOT NULL')}",
        f"{sign} * {_flag(f'{p}.satisfaction IN ({_SATISFIED})')}",
        f"{sign} * {_flag(f'{p}.satisfaction = {_STRICT}')}",
        f"{sign} * {_flag(f'{p}.is_open')}",
        f"{sign} * {_flag(handled)}",
        f"{sign} * (CASE WHEN {handled} THEN {_seconds(dialect, f'{p}.accepted_at', f'{p}.resolved_at')}"
        " ELSE 0.0 END)",
        f"{sign} * {_flag(responded)}",
        f"{sign} * (CASE WHEN {responded} THEN {_seconds(dialect, f'{p}.accepted_at', responded_at)}"
        " ELSE 0.0 END)",
        "0",
    ]
    zeros = ["0"] * (len(MEASURES) - 1)
    resolved = [f"'{span}'", _day(dialect, f"{p}.resolved_at", span), *keys, *zeros, f"{sign}"]
    names = (*KEYS, *MEASURES)
    return (
        ", ".join(f"{v} AS {n}" for v, n in zip(cohort, names, strict=True)),
        ", ".join(f"{v} AS {n}" for v, n in zip(resolved, names, strict=True)),
    )


_COLUMNS = ", ".join((*KEYS, *MEASURES))
_SUMS = ", ".join(f"SUM({m})" for m in MEASURES)
_GROUP = ", ".join(KEYS)


def _on_conflict() -> str:
    adds = ", ".join(f"{m} = {TABLE}.{m} + excluded.{m}" for m in MEASURES)
    return f"ON CONFLICT ({_GROUP}) DO UPDATE SET {adds}"


def _grouped(dialect: str, sources: list[tuple[str, int]]) -> str:
    """SELECT of the summed contributions of every row of each (table, sign) source, by key."""
    parts = []
    for source, sign in sources:
        for day_span, month_span in (("d", "m"), ("D", "M")):
            cohort, resolved = contributions(dialect, "p", sign, day_span)
            month, _ = contributions(dialect, "p", sign, month_span)
            parts.append(f"SELECT {cohort} FROM {source} p")  # noqa: S608 -- our own constants
            parts.append(f"SELECT {resolved} FROM {source} p WHERE p.resolved_at IS NOT NULL")  # noqa: S608
            parts.append(f"SELECT {month} FROM {source} p")  # noqa: S608
    union = " UNION ALL ".join(parts)
    return f"SELECT {_GROUP}, {_SUMS} FROM ({union}) AS x GROUP BY {_GROUP}"  # noqa: S608


def _row_upserts(p: str, sign: int) -> str:
    into = f"INSERT INTO {TABLE} ({_COLUMNS})"
    out = ""
    for day_span, month_span in (("d", "m"), ("D", "M")):
        cohort, resolved = contributions("sqlite", p, sign, day_span)
        month, _ = contributions("sqlite", p, sign, month_span)
        out += (
            f"{into} SELECT {cohort} WHERE true {_on_conflict()};\n"
            f"{into} SELECT {resolved} WHERE {p}.resolved_at IS NOT NULL {_on_conflict()};\n"
            f"{into} SELECT {month} WHERE true {_on_conflict()};\n"
        )
    return out


def trigger_statements(dialect: str) -> list[str]:
    """The DDL that makes the database keep ``case_daily`` (see the module's docstring)."""
    if dialect == "sqlite":
        changed = " OR ".join(f"OLD.{c} IS NOT NEW.{c}" for c in WATCHED)
        return [
            f'CREATE TRIGGER case_daily_insert AFTER INSERT ON "case" BEGIN\n{_row_upserts("NEW", 1)}END',
            f'CREATE TRIGGER case_daily_update AFTER UPDATE OF {", ".join(WATCHED)} ON "case"\n'
            f"WHEN {changed} BEGIN\n{_row_upserts('OLD', -1)}{_row_upserts('NEW', 1)}END",
            f'CREATE TRIGGER case_daily_delete AFTER DELETE ON "case" BEGIN\n{_row_upserts("OLD", -1)}END',
        ]
    into = f"INSERT INTO {TABLE} ({_COLUMNS})"
    changed = " OR ".join(f"SUM({m}) <> 0" for m in MEASURES)

    def upsert(sources: list[tuple[str, int]], having: str = "") -> str:
        return f"{into} {_grouped(dialect, sources)} {having} ORDER BY {_GROUP} {_on_conflict()};"

    body = f"""
BEGIN
  IF TG_OP = 'INSERT' THEN
    {upsert([("new_rows", 1)])}
  ELSIF TG_OP = 'UPDATE' THEN
    {upsert([("old_rows", -1), ("new_rows", 1)], f"HAVING {changed}")}
  ELSE
    {upsert([("old_rows", -1)])}
  END IF;
  RETURN NULL;
END"""
    return [
        f"CREATE FUNCTION case_daily_apply() RETURNS trigger LANGUAGE plpgsql AS $fn${body}$fn$",
        'CREATE TRIGGER case_daily_insert AFTER INSERT ON "case" REFERENCING NEW TABLE AS new_rows'
        " FOR EACH STATEMENT EXECUTE FUNCTION case_daily_apply()",
        'CREATE TRIGGER case_daily_update AFTER UPDATE ON "case" REFERENCING OLD TABLE AS old_rows'
        " NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION case_daily_apply()",
        'CREATE TRIGGER case_daily_delete AFTER DELETE ON "case" REFERENCING OLD TABLE AS old_rows'
        " FOR EACH STATEMENT EXECUTE FUNCTION case_daily_apply()",
    ]


def drop_statements(dialect: str) -> list[str]:
    on = "" if dialect == "sqlite" else f" ON {CASE}"
    drops = [f"DROP TRIGGER IF EXISTS {t}{on}" for t in TRIGGERS]
    if dialect != "sqlite":
        drops.append("DROP FUNCTION IF EXISTS case_daily_apply()")
    return drops


def install(conn: Connection) -> None:
    """(Re)create the triggers."""
    dialect = conn.dialect.name
    for statement in (*drop_statements(dialect), *trigger_statements(dialect)):
        conn.exec_driver_sql(statement)


def rebuild(conn: Connection) -> int:
    """Recompute ``case_daily`` from every case row in one statement; returns its row count."""
    conn.execute(text("DELETE FROM case_daily"))
    conn.exec_driver_sql(f"INSERT INTO {TABLE} ({_COLUMNS}) {_grouped(conn.dialect.name, [(CASE, 1)])}")
    return int(conn.execute(text("SELECT count(*) FROM case_daily")).scalar_one())
