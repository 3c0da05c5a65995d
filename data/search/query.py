"""Find cases by number, by words of their texts, or by the reporter's phone, within an area scope.

One box, three kinds, told apart by the query's shape (:func:`kind_of`):

- ``phone``: a mobile or landline number (digits, spaces, ``+-()`` only): matched on ``case.phone_hash``
  (:func:`data.search.terms.phone_hash`), never by reading phones; only for a viewer who may see
  personal data — anyone else gets ``refused`` and no rows (the caller audits both);
- ``number``: a case number (letters, digits, ``-_.``): the feed's number (``external_id``) or gridcc's
  id, exactly; when none matches, the same text is searched as words;
- ``words``: anything else, as a phrase of bigrams in the full-text index (:mod:`data.search.index`).

Every kind is restricted by ``scope.clause(Case)`` and the duty filters' clause: a number or phone of a
case outside the scope finds nothing, as if it did not exist. Closed cases are found too (a search is
not limited to open cases unless the status filter says so).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import ColumnElement, Select, literal_column, or_, select, text
from sqlalchemy.orm import Session

from ..models import Case
from ..queries.common import CASE_ROW_COLUMNS, CaseRow, case_rows
from ..scope import AreaScope
from .index import FTS_TABLE, PG_VECTOR
from .terms import phone_digits, phone_hash, query_terms

if TYPE_CHECKING:
    from ..case_filter import CaseFilter

KINDS = ("number", "words", "phone")
MAX_QUERY = 100  # characters of a query kept (the box's own limit)
LIMIT = 200
_PHONE_SHAPE = re.compile(r"^[\d\s+\-()（）]+$")
_NUMBER_SHAPE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,119}$")


@dataclass(frozen=True)
class SearchResult:
    query: str
    kind: str  # number | words | phone | "" (an empty query)
    rows: list[CaseRow] = field(default_factory=list)
    refused: bool = False  # a phone search by a viewer who may not see personal data
    truncated: bool = False  # more matched than the limit


def clean_query(query: str | None) -> str:
    """The query as searched: NFKC, without control characters, trimmed, at most :data:`MAX_QUERY`."""
    value = unicodedata.normalize("NFKC", query or "")
    value = "".join(ch for ch in value if unicodedata.category(ch)[0] != "C")
    return value.strip()[:MAX_QUERY]


def kind_of(query: str) -> str:
    """``phone``, ``number`` or ``words`` (see the module's docstring); ``""`` for an empty query."""
    query = query.strip()
    if not query:
        return ""
    if _PHONE_SHAPE.match(query) and phone_digits(query) is not None:
        return "phone"
    if _NUMBER_SHAPE.match(query):
        return "number"
    return "words"


def fts5_query(phrases: list[tuple[list[str], bool]]) -> str:
    """The FTS5 MATCH text: quoted phrases joined by AND, a one-unit one as a prefix (terms hold letters,
    digits and CJK only: nothing to escape)."""
    return " AND ".join(f'"{" ".join(p)}"' + ("*" if prefix else "") for p, prefix in phrases)


def tsquery(phrases: list[tuple[list[str], bool]]) -> str:
    """The PostgreSQL ``to_tsquery('simple', …)`` text: phrases with ``<->``, joined by ``&``; a one-unit
    one as a prefix (``:*``)."""
    return " & ".join(" <-> ".join(p) + (":*" if prefix else "") for p, prefix in phrases)


def words_clause(session: Session, query: str) -> ColumnElement[bool] | None:
    """Cases whose texts hold each of the query's segments as a phrase; None when it has no term."""
    phrases = query_terms(query)
    if not phrases:
        return None
    if session.get_bind().dialect.name == "postgresql":
        wanted = text("to_tsquery('simple'::regconfig, :wanted)").bindparams(wanted=tsquery(phrases))
        return literal_column(PG_VECTOR).op("@@")(wanted)
    matching: Select[Any] = (
        select(literal_column("rowid"))
        .select_from(text(FTS_TABLE))
        .where(text(f"{FTS_TABLE} MATCH :wanted").bindparams(wanted=fts5_query(phrases)))
    )
    return Case.id.in_(matching)


def number_clause(query: str) -> ColumnElement[bool]:
    terms = [Case.external_id == query]
    if query.isdecimal() and len(query) < 12:
        terms.append(Case.id == int(query))
    return or_(*terms)


def _run(
    session: Session,
    scope: AreaScope,
    clause: ColumnElement[bool],
    filters: CaseFilter | None,
    limit: int,
    now: datetime | None,
    tz: str,
) -> tuple[list[CaseRow], bool]:
    query = select(*CASE_ROW_COLUMNS).where(scope.clause(Case), clause)
    if filters is not None:
        query = query.where(filters.clause(now, tz))
    query = query.order_by(Case.requested_at.desc(), Case.id.desc()).limit(limit + 1)
    rows = session.execute(query).all()
    return case_rows(session, rows[:limit], now), len(rows) > limit


def search_cases(
    session: Session,
    scope: AreaScope,
    query: str | None,
    *,
    may_search_phone: bool,
    phone_key: bytes | None,
    filters: CaseFilter | None = None,
    limit: int = LIMIT,
    now: datetime | None = None,
    tz: str = "Asia/Shanghai",
) -> SearchResult:
    """The cases of ``scope`` (and ``filters``) the query finds, newest first, at most ``limit``."""
    q = clean_query(query)
    kind = kind_of(q)
    if not kind:
        return SearchResult(q, "")
    if kind == "phone":
        if not may_search_phone:
            return SearchResult(q, kind, refused=True)
        hashed = phone_hash(q, phone_key)
        if hashed is None:
            return SearchResult(q, kind)
        rows, more = _run(session, scope, Case.phone_hash == hashed, filters, limit, now, tz)
        return SearchResult(q, kind, rows, truncated=more)
    if kind == "number":
        rows, more = _run(session, scope, number_clause(q), filters, limit, now, tz)
        if rows:
            return SearchResult(q, kind, rows, truncated=more)
    words = words_clause(session, q)
    if words is None:
        return SearchResult(q, "words")
    rows, more = _run(session, scope, words, filters, limit, now, tz)
    return SearchResult(q, "words", rows, truncated=more)


__all__ = ["KINDS", "SearchResult", "clean_query", "kind_of", "search_cases"]
