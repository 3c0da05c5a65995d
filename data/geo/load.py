"""Load a user's own units (GeoJSON, GeoPackage, Shapefile...) of one level into ``admin_unit``.

All or nothing: every row is checked first and every problem reported with its row number and reason;
if any row has an error nothing is written. Otherwise all rows are upserted (existing codes updated,
new ones inserted; ``synthetic`` becomes False).

Checks: the file is readable and declares a CRS (no CRS is an error: we will not guess); geometries
are reprojected to EPSG:4326 and must then be plausible longitude/latitude; columns ``code`` and
``name`` are required, ``parent_code`` optional (derived from the code prefix when absent, and must
match it when present); code present, digits, of the level's length, unique in the file; geometry
present and polygonal (invalid ones are repaired with ``make_valid``, keeping polygonal parts, and
reported as warnings); the parent exists in the database or in the same file.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd
import shapely
from shapely.geometry.base import BaseGeometry
from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from ..models.places import CODE_LENGTH, LEVELS, PARENT_LEVEL, AdminUnit
from .rows import unit_rows
from .tessellate import polygonal

WGS84 = "EPSG:4326"
WORLD = (-180.0, -90.0, 180.0, 90.0)
CHINA = (73.0, 3.0, 136.0, 54.0)


@dataclass(frozen=True)
class RowIssue:
    """One problem: ``row`` is the 1-based feature number in the file, None for the whole file."""

    row: int | None
    code: str | None
    reason: str

    def __str__(self) -> str:
        where = "file" if self.row is None else f"row {self.row}"
        code = f" (code {self.code})" if self.code else ""
        return f"{where}{code}: {self.reason}"


@dataclass
class LoadReport:
    path: str
    level: str
    rows: int = 0
    inserted: int = 0
    updated: int = 0
    errors: list[RowIssue] = field(default_factory=list)
    warnings: list[RowIssue] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def loaded(self) -> int:
        return self.inserted + self.updated

    def error(self, row: int | None, code: str | None, reason: str) -> None:
        self.errors.append(RowIssue(row, code, reason))

    def warn(self, row: int | None, code: str | None, reason: str) -> None:
        self.warnings.append(RowIssue(row, code, reason))

    def lines(self) -> list[str]:
        """The report as text, one problem a line in row order, then a summary line."""
        tagged = [("ERROR  ", issue) for issue in self.errors] + [
            ("WARNING", issue) for issue in self.warnings
        ]
        tagged.sort(key=lambda item: -1 if item[1].row is None else item[1].row)
        out = [f"{tag} {issue}" for tag, issue in tagged]
        if self.ok:
            counts = f"{self.inserted} inserted, {self.updated} updated"
            out.append(f"{self.path}: {self.rows} {self.level} rows, {counts}")
        else:
            out.append(f"{self.path}: {len(self.errors)} error(s) in {self.rows} rows; nothing loaded")
        return out


def _code(value: Any) -> str | None:
    """A code cell as text: numbers lose a trailing ``.0``, blanks become None."""
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = str(value).strip()
    return text or None


def _read(path: Path, report: LoadReport) -> gpd.GeoDataFrame | None:
    try:
        frame = gpd.read_file(path)
    except Exception as exc:  # noqa: BLE001 - any reader failure is a report line, not a crash
        report.error(None, None, f"cannot read the file: {exc}")
        return None
    report.rows = len(frame)
    missing = [c for c in ("code", "name") if c not in frame.columns]
    if missing:
        report.error(None, None, f"missing required column(s): {', '.join(missing)}")
    if frame.crs is None:
        report.error(None, None, "the file declares no coordinate reference system (CRS); add one")
    if report.errors:
        return None
    try:
        return frame.to_crs(WGS84)
    except Exception as exc:  # noqa: BLE001
        report.error(None, None, f"cannot reproject from {frame.crs} to {WGS84}: {exc}")
        return None


def _geometry(geom: BaseGeometry | None, row: int, code: str | None, report: LoadReport) -> Any:
    """The row's polygonal geometry (repaired if needed), or None after reporting an error."""
    if geom is None or geom.is_empty:
        report.error(row, code, "empty geometry")
        return None
    if geom.geom_type not in ("Polygon", "MultiPolygon"):
        report.error(row, code, f"geometry is a {geom.geom_type}, not a polygon")
        return None
    min_x, min_y, max_x, max_y = geom.bounds
    if min_x < WORLD[0] or min_y < WORLD[1] or max_x > WORLD[2] or max_y > WORLD[3]:
        report.error(
            row,
            code,
            f"coordinates ({min_x:.6g}, {min_y:.6g}, {max_x:.6g}, {max_y:.6g}) are not longitude/latitude "
            "after reprojection: is the declared CRS right?",
        )
        return None
    if min_x < CHINA[0] or min_y < CHINA[1] or max_x > CHINA[2] or max_y > CHINA[3]:
        report.warn(row, code, "geometry lies outside China: check the declared CRS")
    if not geom.is_valid:
        why = shapely.is_valid_reason(geom)
        repaired = polygonal(shapely.make_valid(geom))
        if repaired.is_empty or repaired.area == 0:
            report.error(row, code, f"invalid geometry ({why}) cannot be repaired into a polygon")
            return None
        report.warn(row, code, f"invalid geometry ({why}) repaired")
        return repaired
    return geom


def _check_code(code: str | None, level: str, row: int, seen: set[str], report: LoadReport) -> bool:
    if code is None:
        report.error(row, None, "missing code")
        return False
    if not code.isdigit() or len(code) != CODE_LENGTH[level]:
        report.error(row, code, f"a {level} code has {CODE_LENGTH[level]} digits; got {code!r}")
        return False
    if code in seen:
        report.error(row, code, "duplicate code in the file")
        return False
    seen.add(code)
    return True


def load_file(session: Session, path: str | Path, level: str) -> LoadReport:
    """Check then (only if every row is good) upsert the units of ``path`` at ``level``."""
    if level not in LEVELS:
        raise ValueError(f"level must be one of {', '.join(LEVELS)}")
    path = Path(path)
    report = LoadReport(str(path), level)
    frame = _read(path, report)
    if frame is None:
        return report
    parent_length = CODE_LENGTH[PARENT_LEVEL[level]] if level in PARENT_LEVEL else 0
    has_parent_column = "parent_code" in frame.columns
    seen: set[str] = set()
    good: list[tuple[int, str, str, str | None, BaseGeometry]] = []
    for number, (_, record) in enumerate(frame.iterrows(), start=1):
        code = _code(record["code"])
        code_ok = _check_code(code, level, number, seen, report)
        name = _code(record["name"])
        if name is None:
            report.error(number, code, "missing name")
        geom = _geometry(record.geometry, number, code, report)
        if not code_ok or code is None:
            continue
        parent = code[:parent_length] if parent_length else None
        given = _code(record["parent_code"]) if has_parent_column else None
        if given is not None and given != parent:
            report.error(number, code, f"parent_code {given} does not match the code's prefix {parent}")
            continue
        if geom is not None and name is not None:
            good.append((number, code, name, parent, geom))
    parents = {p for _, _, _, p, _ in good if p}
    if parents:
        known = set(session.scalars(select(AdminUnit.code).where(AdminUnit.code.in_(parents))))
        known |= seen
        for number, code, _, parent, _ in good:
            if parent and parent not in known:
                report.error(number, code, f"parent {parent} is neither in the database nor in the file")
    if report.errors:
        return report
    _upsert(session, level, good, report)
    return report


def _upsert(
    session: Session,
    level: str,
    good: list[tuple[int, str, str, str | None, BaseGeometry]],
    report: LoadReport,
) -> None:
    rows = unit_rows(
        [g[1] for g in good], [g[2] for g in good], level, [g[3] for g in good], [g[4] for g in good], False
    )
    codes = [row["code"] for row in rows]
    existing: set[str] = set()
    for start in range(0, len(codes), 500):
        chunk = codes[start : start + 500]
        existing |= set(session.scalars(select(AdminUnit.code).where(AdminUnit.code.in_(chunk))))
    new = [row for row in rows if row["code"] not in existing]
    old = [row for row in rows if row["code"] in existing]
    if new:
        session.execute(insert(AdminUnit), new)
    if old:
        session.execute(update(AdminUnit), old)
    report.inserted, report.updated = len(new), len(old)
