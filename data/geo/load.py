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

Each reason is a code with values (:mod:`data.row_issues`), in words only when the report is shown in a
language (``LoadReport.lines(lang)``).
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
from ..row_issues import RowIssue, Word, issue_lines
from ..text import DEFAULT, t
from .rows import unit_rows
from .tessellate import polygonal

WGS84 = "EPSG:4326"
WORLD = (-180.0, -90.0, 180.0, 90.0)
CHINA = (73.0, 3.0, 136.0, 54.0)


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

    def error(self, row: int | None, code: str | None, reason: str, /, **values: object) -> None:
        """A problem: ``reason`` is a code, its words the catalogue's ``import_<reason>`` with ``values``."""
        self.errors.append(RowIssue(row, code, reason, values, "code"))

    def warn(self, row: int | None, code: str | None, reason: str, /, **values: object) -> None:
        self.warnings.append(RowIssue(row, code, reason, values, "code"))

    def lines(self, lang: str = DEFAULT) -> list[str]:
        """The report in ``lang``, one problem a line in row order, then a summary line."""
        out = issue_lines(self.errors, self.warnings, lang)
        if self.ok:
            level = Word("level", self.level).text(lang)
            counts = {"inserted": self.inserted, "updated": self.updated}
            out.append(t("import_loaded_units", lang, path=self.path, rows=self.rows, level=level, **counts))
        else:
            out.append(t("import_failed", lang, path=self.path, errors=len(self.errors), rows=self.rows))
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
        report.error(None, None, "cannot_read", error=str(exc))
        return None
    report.rows = len(frame)
    missing = [c for c in ("code", "name") if c not in frame.columns]
    if missing:
        report.error(None, None, "missing_columns", columns=missing)
    if frame.crs is None:
        report.error(None, None, "no_crs")
    if report.errors:
        return None
    try:
        return frame.to_crs(WGS84)
    except Exception as exc:  # noqa: BLE001
        report.error(None, None, "cannot_reproject", crs=str(frame.crs), target=WGS84, error=str(exc))
        return None


def _geometry(geom: BaseGeometry | None, row: int, code: str | None, report: LoadReport) -> Any:
    """The row's polygonal geometry (repaired if needed), or None after reporting an error."""
    if geom is None or geom.is_empty:
        report.error(row, code, "empty_geometry")
        return None
    if geom.geom_type not in ("Polygon", "MultiPolygon"):
        report.error(row, code, "not_polygon", kind=geom.geom_type)
        return None
    min_x, min_y, max_x, max_y = geom.bounds
    if min_x < WORLD[0] or min_y < WORLD[1] or max_x > WORLD[2] or max_y > WORLD[3]:
        report.error(row, code, "not_lon_lat", min_x=min_x, min_y=min_y, max_x=max_x, max_y=max_y)
        return None
    if min_x < CHINA[0] or min_y < CHINA[1] or max_x > CHINA[2] or max_y > CHINA[3]:
        report.warn(row, code, "outside_china")
    if not geom.is_valid:
        why = shapely.is_valid_reason(geom)
        repaired = polygonal(shapely.make_valid(geom))
        if repaired.is_empty or repaired.area == 0:
            report.error(row, code, "unrepairable", why=why)
            return None
        report.warn(row, code, "repaired", why=why)
        return repaired
    return geom


def _check_code(code: str | None, level: str, row: int, seen: set[str], report: LoadReport) -> bool:
    if code is None:
        report.error(row, None, "missing_code")
        return False
    if not code.isdigit() or len(code) != CODE_LENGTH[level]:
        report.error(row, code, "bad_code", level=Word("level", level), digits=CODE_LENGTH[level], code=code)
        return False
    if code in seen:
        report.error(row, code, "duplicate_code")
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
            report.error(number, code, "missing_name")
        geom = _geometry(record.geometry, number, code, report)
        if not code_ok or code is None:
            continue
        parent = code[:parent_length] if parent_length else None
        given = _code(record["parent_code"]) if has_parent_column else None
        if given is not None and given != parent:
            report.error(number, code, "parent_mismatch", given=given, parent=parent)
            continue
        if geom is not None and name is not None:
            good.append((number, code, name, parent, geom))
    parents = {p for _, _, _, p, _ in good if p}
    if parents:
        known = set(session.scalars(select(AdminUnit.code).where(AdminUnit.code.in_(parents))))
        known |= seen
        for number, code, _, parent, _ in good:
            if parent and parent not in known:
                report.error(number, code, "unknown_parent", parent=parent)
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
