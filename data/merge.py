"""合并: the same matter reported through several channels (12345, the grid app, 信访 …), suggested
automatically, confirmed by a person, reversible, audited; a merged case is counted once in 受理.

A **suggestion** is a group of cases of the scope received in the last ``days`` days, linked pairwise
when they are of the same category, came through different channels (feeds), were received within
``hours`` of each other, lie within ``metres`` (or, without points, in the same grid) and their text is
similar (the overlap coefficient of their titles' and descriptions' character bigrams — shared bigrams
over the smaller set — at least ``min_similarity``: Chinese has no spaces, bigrams are its words'
common denominator, and one channel's short title must not lose to another's long account). Pairs join into
groups (union–find); cases already merged are left out. The primary of a group is its earliest case.

**Merging** (:func:`merge_cases`, ``act_on_case``: duty officers and leaders) writes one
:class:`data.models.CaseMerge` per other case, a ``merged`` event on every case of the group and one
``case_merge`` audit row; :func:`unmerge_case` takes one case out again (``unmerged`` event, audited).
Every case named must lie in the account's scope; nothing is written otherwise.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from .auth.audit import audit
from .auth.roles import Permission, may
from .auth.supervision import CaseNotFound, NotPermitted
from .auth.users import scope_of
from .models import Case, CaseEvent, CaseMerge, UserAccount
from .scope import AreaScope

M_PER_DEG_LAT = 110_574.0
M_PER_DEG_LON_EQUATOR = 111_320.0
GROUP_MAX = 20  # a merge names at most this many cases


class MergeRefused(ValueError):
    """The merge cannot be made as asked; ``code`` is the catalogue key of the words shown."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class Suggestion:
    primary_id: int
    case_ids: tuple[int, ...]  # the primary first, then by time
    category_code: str
    feeds: tuple[str, ...]  # the channels it came through


@dataclass(frozen=True)
class _Row:
    id: int
    feed: str
    category: str | None  # never None here: the query asks for a category
    grid: str | None
    lon: float | None
    lat: float | None
    at: datetime
    text: str


def bigrams(text: str) -> frozenset[str]:
    clean = "".join(ch for ch in text.lower() if ch.isalnum())
    return frozenset(clean[i : i + 2] for i in range(len(clean) - 1)) or frozenset(clean)


def similarity(a: frozenset[str], b: frozenset[str]) -> float:
    """The overlap coefficient: shared bigrams over the smaller set (0 when either is empty)."""
    return len(a & b) / min(len(a), len(b)) if a and b else 0.0


def _metres(a: _Row, b: _Row) -> float | None:
    if a.lon is None or a.lat is None or b.lon is None or b.lat is None:
        return None
    dy = (a.lat - b.lat) * M_PER_DEG_LAT
    dx = (a.lon - b.lon) * M_PER_DEG_LON_EQUATOR * math.cos(math.radians((a.lat + b.lat) / 2))
    return math.hypot(dx, dy)


def suggestions(
    session: Session,
    scope: AreaScope,
    now: datetime,
    days: int = 7,
    hours: float = 24.0,
    metres: float = 150.0,
    min_similarity: float = 0.4,
) -> list[Suggestion]:
    """Groups of cases that look like one matter reported through several channels (module docstring)."""
    merged = select(CaseMerge.case_id)
    primaries = select(CaseMerge.primary_id)
    rows = [
        _Row(*r[:7], text=f"{r.title} {r.description}")
        for r in session.execute(
            select(
                Case.id, Case.feed_name, Case.category_code, Case.grid_code, Case.lon, Case.lat,
                Case.requested_at, Case.title, Case.description,
            ).where(
                scope.clause(Case),
                Case.requested_at > now - timedelta(days=days),
                Case.requested_at <= now,
                Case.category_code.is_not(None),
                Case.id.not_in(merged),
                Case.id.not_in(primaries),
            )
        )
    ]  # fmt: skip
    by_category: dict[str | None, list[_Row]] = defaultdict(list)
    for r in rows:
        by_category[r.category].append(r)
    parent: dict[int, int] = {}

    def find(i: int) -> int:
        while parent.get(i, i) != i:
            i = parent[i]
        return i

    window = timedelta(hours=hours)
    grams = {r.id: bigrams(r.text) for r in rows}
    for group in by_category.values():
        group.sort(key=lambda r: r.at)
        for i, a in enumerate(group):
            for b in group[i + 1 :]:
                if b.at - a.at > window:
                    break
                if a.feed == b.feed:
                    continue  # the same channel twice is its own business (a repeat, not a merge)
                distance = _metres(a, b)
                near = (
                    distance <= metres if distance is not None else (a.grid is not None and a.grid == b.grid)
                )
                if near and similarity(grams[a.id], grams[b.id]) >= min_similarity:
                    parent.setdefault(a.id, a.id)
                    parent.setdefault(b.id, b.id)
                    parent[find(b.id)] = find(a.id)
    groups: dict[int, list[_Row]] = defaultdict(list)
    by_id = {r.id: r for r in rows}
    for case_id in parent:
        groups[find(case_id)].append(by_id[case_id])
    out = []
    for members in groups.values():
        members = sorted({m.id: m for m in members}.values(), key=lambda r: (r.at, r.id))
        if len(members) < 2:
            continue
        out.append(
            Suggestion(
                members[0].id,
                tuple(m.id for m in members[:GROUP_MAX]),
                members[0].category or "",
                tuple(sorted({m.feed for m in members})),
            )
        )
    out.sort(key=lambda s: -max(by_id[i].at.timestamp() for i in s.case_ids))
    return out


def _check(actor: UserAccount) -> None:
    if actor.disabled or not may(actor.role, Permission.ACT_ON_CASE):
        raise NotPermitted(f"{actor.username} ({actor.role}) may not merge cases")


def _in_scope(session: Session, actor: UserAccount, ids: Iterable[int]) -> list[Case]:
    wanted = sorted(set(ids))
    cases = list(session.scalars(select(Case).where(Case.id.in_(wanted), scope_of(actor).clause(Case))))
    if len(cases) != len(wanted):
        raise CaseNotFound("a case named is not in scope")
    return cases


def merge_cases(
    session: Session, actor: UserAccount, case_ids: Sequence[int], now: datetime, remote_addr: str = ""
) -> tuple[int, list[int]]:
    """Confirm ``case_ids`` as one matter: (the primary, the others merged into it). See the module."""
    _check(actor)
    ids = [i for i in case_ids if isinstance(i, int) and not isinstance(i, bool)]
    if len(ids) != len(case_ids) or len(set(ids)) < 2 or len(set(ids)) > GROUP_MAX:
        raise MergeRefused("merge_bad_group", f"a merge names 2 to {GROUP_MAX} distinct case ids")
    cases = _in_scope(session, actor, ids)
    if session.scalar(
        select(CaseMerge.case_id).where(CaseMerge.case_id.in_(ids) | CaseMerge.primary_id.in_(ids)).limit(1)
    ):
        raise MergeRefused("merge_already", "a case named is merged already")
    if len({c.category_code for c in cases}) != 1:
        raise MergeRefused("merge_categories", "the cases are of different categories")
    cases.sort(key=lambda c: (c.requested_at, c.id))
    primary, others = cases[0], cases[1:]
    for case in others:
        session.add(
            CaseMerge(case_id=case.id, primary_id=primary.id, merged_by=actor.username, merged_at=now)
        )
    numbers = "、".join(c.external_id for c in others)
    session.add(
        CaseEvent(
            case_id=primary.id,
            at=now,
            kind="merged",
            detail=f"primary:{numbers}"[:2000],
            actor=actor.username,
        )
    )
    for case in others:
        session.add(
            CaseEvent(
                case_id=case.id,
                at=now,
                kind="merged",
                detail=f"into:{primary.external_id}",
                actor=actor.username,
            )
        )
    audit(
        session, actor.username, "case_merge", f"case:{primary.id}",
        f"{primary.external_id} ← {numbers}"[:2000], remote_addr, now,
    )  # fmt: skip
    session.flush()
    return primary.id, [c.id for c in others]


def unmerge_case(
    session: Session, actor: UserAccount, case_id: int, now: datetime, remote_addr: str = ""
) -> int:
    """Take ``case_id`` out of its group again (counted in 受理 again): the primary it was merged into."""
    _check(actor)
    (case,) = _in_scope(session, actor, [case_id])
    row = session.get(CaseMerge, case.id)
    if row is None:
        raise MergeRefused("merge_not_merged", f"case {case_id} is not merged")
    primary = session.get(Case, row.primary_id)
    session.delete(row)
    session.add(
        CaseEvent(
            case_id=case.id,
            at=now,
            kind="unmerged",
            detail=f"from:{primary.external_id if primary else row.primary_id}",
            actor=actor.username,
        )
    )
    audit(session, actor.username, "case_unmerge", f"case:{case.id}", case.external_id, remote_addr, now)
    session.flush()
    return row.primary_id


def merged_ids(session: Session, ids: Iterable[int]) -> dict[int, int]:
    """Of ``ids``, those merged into another case: case id → primary id."""
    wanted = sorted(set(ids))
    if not wanted:
        return {}
    return dict(
        session.execute(
            select(CaseMerge.case_id, CaseMerge.primary_id).where(CaseMerge.case_id.in_(wanted))
        ).all()
    )
