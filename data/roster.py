"""The real roster of grid workers, grid chiefs and grid party branches (``gridcc staff load|export``).

A roster is a CSV or XLSX sheet, one person (or party branch) a row, with the columns ``grid_code``
(网格编码), ``role`` (角色: 网格员 / 网格长 / 网格党支部, or ``grid_worker`` / ``grid_chief`` /
``party_branch``), ``name`` (姓名) and ``phone`` (电话; blank only for a party branch), and optionally
``party_branch`` (所属党支部: the grid's party branch, added once per grid when given).

All or nothing, like ``gridcc geo load``: every bad row is reported with its reason (a missing column,
an unknown role, a missing name, a bad phone, a grid code that is no grid in the database, the same
person twice in one grid and role) and nothing is written. A good file *replaces* every staff row of the
grids it names (the synthetic staff ``gridcc geo generate`` made, or an earlier roster); grids it does not
name keep theirs. Loaded rows have ``synthetic = False``. The load is audited (``staff_load``).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy import delete, func, insert, select
from sqlalchemy.orm import Session

from .auth.audit import audit
from .geo.rows import place_columns
from .models import AdminUnit, GridStaff
from .queries.labels import label
from .tabular import ImportReport, read_table

__all__ = ["COLUMNS", "EXPORT_HEADER", "ROLES", "load_roster", "normalise_phone", "parse_role", "roster_rows"]

ROLES = ("grid_worker", "grid_chief", "party_branch")
COLUMNS = {
    "grid_code": ("网格编码", "网格代码", "grid"),
    "role": ("角色", "职务", "岗位"),
    "name": ("姓名", "名称"),
    "phone": ("电话", "手机", "手机号", "联系电话"),
    "party_branch": ("所属党支部", "党支部", "网格党支部"),
    "grid_name": ("网格名称", "网格"),  # export only: read and ignored
}
REQUIRED = ("grid_code", "role", "name", "phone")
EXPORT_HEADER = ("grid_code", "grid_name", "role", "name", "phone", "party_branch")

MOBILE = re.compile(r"1[3-9]\d{9}")
LANDLINE = re.compile(r"0\d{2,3}-?\d{7,8}")


def parse_role(text: str) -> str | None:
    """A role code from its code or its label in either language (None when unknown)."""
    value = text.strip()
    for code in ROLES:
        if value.lower() in (code, label("staff_role", code, "en").lower()) or value == label(
            "staff_role", code
        ):
            return code
    return "party_branch" if value in ("党支部", "支部") else None


def normalise_phone(text: str) -> str | None:
    """An 11-digit mobile or a landline (``023-12345678``), without spaces or a +86; None when neither."""
    value = re.sub(r"[\s()（）]", "", text)
    if value.startswith("+86"):
        value = value[3:]
    elif value.startswith("0086"):
        value = value[4:]
    elif value.startswith("86") and len(value) == 13:
        value = value[2:]
    if MOBILE.fullmatch(value.replace("-", "")):
        return value.replace("-", "")  # 138-1234-5678
    return value if LANDLINE.fullmatch(value) else None


@dataclass(frozen=True)
class _Person:
    row: int
    grid: str
    role: str
    name: str
    phone: str | None


def _grids(session: Session, codes: set[str]) -> set[str]:
    found: set[str] = set()
    wanted = sorted(codes)
    for i in range(0, len(wanted), 500):
        found |= set(
            session.scalars(
                select(AdminUnit.code).where(
                    AdminUnit.code.in_(wanted[i : i + 500]), AdminUnit.level == "grid"
                )
            )
        )
    return found


def load_roster(
    session: Session, path: str | Path, actor: str = "cli", now: datetime | None = None
) -> ImportReport:
    """Check the roster, then (only when every row is good) replace the staff of its grids."""
    path = Path(path)
    report = ImportReport(str(path), "staff", noun="grid")
    table = read_table(path, COLUMNS, REQUIRED, report)
    if table is None:
        return report
    known = _grids(session, {row["grid_code"] for _, row in table if row["grid_code"]})
    people: list[_Person] = []
    seen: dict[tuple[str, str, str], int] = {}
    implied: dict[tuple[str, str, str], int] = {}  # branches named in the party_branch column
    for number, row in table:
        grid, role_text, name = row["grid_code"], row["role"], row["name"]
        key = grid or None
        bad = False
        if not grid:
            report.error(number, None, "missing_grid_code")
            bad = True
        elif grid not in known:
            report.error(number, key, "unknown_grid", grid=grid)
            bad = True
        role = parse_role(role_text)
        if role is None and role_text:
            report.error(number, key, "unknown_role", role=role_text)
            bad = True
        elif role is None:
            report.error(number, key, "missing_role")
            bad = True
        if not name:
            report.error(number, key, "missing_person_name")
            bad = True
        phone: str | None = None
        if row["phone"]:
            phone = normalise_phone(row["phone"])
            if phone is None:
                report.error(number, key, "bad_phone", phone=row["phone"])
                bad = True
        elif role in ("grid_worker", "grid_chief"):
            report.error(number, key, "missing_phone")
            bad = True
        if bad or role is None:
            continue
        ident = (grid, role, name)
        if ident in seen:
            report.error(number, key, "duplicate_person", name=name, role=role_text, first=seen[ident])
            continue
        seen[ident] = number
        people.append(_Person(number, grid, role, name, phone))
        if row["party_branch"]:
            implied.setdefault((grid, "party_branch", row["party_branch"]), number)
    for (grid, role, name), number in implied.items():
        if (grid, role, name) not in seen:
            people.append(_Person(number, grid, role, name, None))
    if report.errors:
        return report
    grids = sorted({p.grid for p in people})
    for i in range(0, len(grids), 500):
        chunk = grids[i : i + 500]
        report.replaced += (
            session.scalar(select(func.count()).select_from(GridStaff).where(GridStaff.unit_code.in_(chunk)))
            or 0
        )
        session.execute(delete(GridStaff).where(GridStaff.unit_code.in_(chunk)))
    if people:
        session.execute(
            insert(GridStaff),
            [
                {
                    "unit_code": p.grid,
                    "role": p.role,
                    "name": p.name,
                    "phone": p.phone,
                    "synthetic": False,
                    **place_columns(p.grid),
                }
                for p in people
            ],
        )
    report.loaded = len(people)
    detail = f"{path.name}: {len(people)} rows over {len(grids)} grids, {report.replaced} replaced"
    audit(session, actor, "staff_load", f"file:{path.name}", detail, "", now)
    session.flush()
    return report


def roster_rows(session: Session, area: str | None = None) -> Iterator[tuple[str, str, str, str, str, str]]:
    """The roster of ``area`` (any unit code; all when None) in :data:`EXPORT_HEADER` order, by grid
    then role; the export loads back unchanged."""
    stmt = (
        select(GridStaff.unit_code, AdminUnit.name, GridStaff.role, GridStaff.name, GridStaff.phone)
        .join(AdminUnit, AdminUnit.code == GridStaff.unit_code)
        .order_by(GridStaff.unit_code, GridStaff.id)
    )
    if area:
        stmt = stmt.where(GridStaff.unit_code.startswith(area, autoescape=True))
    branches: dict[str, str] = {}
    rows = session.execute(stmt).all()
    for grid, _, role, name, _phone in rows:
        if role == "party_branch":
            branches.setdefault(grid, name)
    for grid, grid_name, role, name, phone in rows:
        yield (grid, grid_name, label("staff_role", role), name, phone or "", branches.get(grid, ""))
