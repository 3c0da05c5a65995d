"""The risk ledger (风险台账) kept by hand: create, edit, reassign and close (销号) a risk, and import or
export a whole ledger (``gridcc risks load|export``).

"逐个研究化解对策，实行台账管理、挂图作战、限期销号": each risk has one of five kinds (政治安全, 社会治安,
社会矛盾, 公共安全, 网络安全), a level (高 / 中 / 低; 重大 / 较大 / 一般 are read as the same), a place
(a street, community or grid of the scope, shown on the map at ``lon``/``lat`` or the unit's centre),
an owner unit (责任单位) and person (责任人, with a phone), the measures (管控措施) and a 销号 deadline.
Closing it (销号) records the measures taken and the evidence.

The service functions check the account like :mod:`data.auth.supervision`: its role must have
``manage_risks`` (duty officers and leaders) and the risk's place must lie in its area scope (a risk
outside it is not found). Every change is an audit row (``risk_add``, ``risk_edit``, ``risk_assign``,
``risk_close``); the caller commits, and bumps the ``risks`` layer version.

An import follows the contract of ``gridcc geo load``: every row is checked, every problem reported
with its row number and reason (a missing column, an unknown kind or level, a missing title, a code that
is no unit in the database, a bad phone, a bad date, the same 台账编号 twice) and nothing is written when
any row is bad. A row whose 台账编号 (``ref``) is already in the ledger updates that risk; others are
added. Every risk has a ``ref`` (``FX000123`` when none is given), so an export loads back as updates.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from .auth.audit import audit
from .auth.roles import Permission, may
from .auth.supervision import NotPermitted
from .geo.rows import place_columns
from .models import RISK_KINDS, RISK_LEVELS, AdminUnit, Risk, UserAccount
from .queries.labels import label
from .roster import normalise_phone
from .scope import AreaScope
from .tabular import ImportReport, read_table

TZ = ZoneInfo("Asia/Shanghai")
LEVEL_ALIASES = {
    "重大": "high",
    "较大": "medium",
    "一般": "low",
    "高风险": "high",
    "中风险": "medium",
    "低风险": "low",
}
COLUMNS = {
    "ref": ("台账编号", "编号", "序号"),
    "kind": ("风险类别", "风险类型", "类别"),
    "level": ("风险等级", "等级"),
    "title": ("风险名称", "风险事项", "名称"),
    "area_code": ("区划编码", "网格编码", "所在网格编码", "grid_code"),
    "area_name": ("所在区域", "网格名称"),  # export only: read and ignored
    "owner": ("责任单位",),
    "owner_person": ("责任人",),
    "owner_phone": ("联系电话", "电话", "手机"),
    "measures": ("管控措施", "化解措施", "措施"),
    "due": ("销号时限", "销号期限", "期限", "due_at"),
    "description": ("风险描述", "描述", "情况说明"),
    "lon": ("经度",),
    "lat": ("纬度",),
    "closed": ("销号日期", "closed_at"),
    "evidence": ("销号佐证", "佐证材料", "佐证"),
}
REQUIRED = ("kind", "level", "title", "area_code", "owner", "owner_person", "owner_phone", "due")
EXPORT_HEADER = (
    "ref", "kind", "level", "title", "area_code", "area_name", "owner", "owner_person", "owner_phone",
    "measures", "due", "description", "lon", "lat", "closed", "evidence",
)  # fmt: skip


class RiskNotFound(LookupError):
    """No such risk in the account's scope (a risk outside it is not found, not forbidden)."""


class RiskError(ValueError):
    """A value the ledger does not take (the message says which and why, in English for logs; ``code`` and
    ``values`` name it for a screen, which puts it in words from the catalogue: ``ledger_err_<code>``)."""

    def __init__(self, message: str, code: str = "invalid", **values: object) -> None:
        super().__init__(message)
        self.code = code
        self.values = values


@dataclass(frozen=True)
class RiskFields:
    """What a person enters for a risk (``due_at`` timezone-aware)."""

    kind: str
    level: str
    title: str
    area_code: str  # a street, community or grid
    owner: str
    owner_person: str
    owner_phone: str | None
    due_at: datetime
    measures: str = ""
    description: str = ""
    lon: float | None = None
    lat: float | None = None
    ref: str | None = None


def parse_kind(text: str) -> str | None:
    value = text.strip()
    for code in RISK_KINDS:
        if value.lower() in (code, label("risk_kind", code, "en").lower()) or value in (
            label("risk_kind", code),
            label("risk_kind", code) + "风险",
            label("risk_kind", code) + "类",
        ):
            return code
    return None


def parse_level(text: str) -> str | None:
    value = text.strip()
    for code in RISK_LEVELS:
        if value.lower() in (code, label("risk_level", code, "en").lower()) or value == label(
            "risk_level", code
        ):
            return code
    return LEVEL_ALIASES.get(value)


def parse_day_end(text: str) -> datetime | None:
    """A 销号 date (``2026-03-31``, ``2026/3/31``, ``2026年3月31日``) as the end of that day in China
    (a time given with it is kept); None when it is not a date."""
    value = text.strip().replace("/", "-").replace("年", "-").replace("月", "-").replace("日", "")
    try:
        parsed = datetime.fromisoformat(value.replace(" ", "T")) if ("T" in value or ":" in value) else None
    except ValueError:
        parsed = None
    if parsed is not None and parsed.tzinfo is None and parsed.time() == time(0):
        value = parsed.date().isoformat()  # a spreadsheet's date cell: the day, not its first second
    elif parsed is not None:
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=TZ)
    try:
        day = date(*(int(p) for p in value.split("-")))
    except (ValueError, TypeError):
        return None
    return datetime.combine(day, time(23, 59, 59), TZ)


def local_day(value: datetime | None) -> str:
    return value.astimezone(TZ).date().isoformat() if value is not None else ""


def _check_account(actor: UserAccount) -> None:
    if actor.disabled or not may(actor.role, Permission.MANAGE_RISKS):
        raise NotPermitted(f"{actor.username} ({actor.role}) may not keep the risk ledger")


def _risk_in_scope(session: Session, scope: AreaScope, risk_id: int) -> Risk:
    risk = session.scalar(select(Risk).where(Risk.id == risk_id, scope.clause(Risk)))
    if risk is None:
        raise RiskNotFound(f"no risk {risk_id} in scope")
    return risk


def _unit(session: Session, scope: AreaScope, code: str) -> AdminUnit:
    unit = session.get(AdminUnit, code)
    if unit is None or unit.level not in ("street", "community", "grid") or not scope.contains(code):
        raise RiskError(f"no street, community or grid {code!r} in scope", "out_of_scope")
    return unit


def _text(value: str, name: str, limit: int, required: bool = False) -> str:
    text = (value or "").strip()
    if required and not text:
        raise RiskError(f"{name} is required", "required", field=name)
    if len(text) > limit:
        raise RiskError(f"{name} is longer than {limit} characters", "too_long", field=name, limit=limit)
    return text


def _phone(value: str | None) -> str | None:
    if not value or not value.strip():
        return None
    phone = normalise_phone(value)
    if phone is None:
        raise RiskError(f"bad phone {value!r}: an 11-digit mobile or a landline", "bad_phone")
    return phone


def _place(risk: Risk, unit: AdminUnit, lon: float | None, lat: float | None) -> None:
    risk.set_place(unit.code)
    if lon is None or lat is None:
        lon, lat = unit.label_lon, unit.label_lat
    risk.lon, risk.lat = lon, lat


def _ref(session: Session, risk: Risk) -> None:
    if not risk.ref:
        session.flush()
        risk.ref = f"FX{risk.id:06d}"


def create_risk(
    session: Session,
    scope: AreaScope,
    fields: RiskFields,
    actor: UserAccount,
    now: datetime,
    remote_addr: str = "",
) -> Risk:
    """A new open risk in scope; the caller commits."""
    _check_account(actor)
    if fields.kind not in RISK_KINDS:
        raise RiskError(f"unknown kind {fields.kind!r}: one of {', '.join(RISK_KINDS)}", "unknown_kind")
    if fields.level not in RISK_LEVELS:
        raise RiskError(f"unknown level {fields.level!r}: one of {', '.join(RISK_LEVELS)}", "unknown_level")
    if fields.due_at.tzinfo is None:
        raise RiskError("the 销号 deadline must be timezone-aware", "bad_due")
    unit = _unit(session, scope, fields.area_code)
    if fields.ref and session.scalar(select(Risk.id).where(Risk.ref == fields.ref)) is not None:
        raise RiskError(f"台账编号 {fields.ref} is taken", "ref_taken")
    risk = Risk(
        ref=_text(fields.ref or "", "ref", 40) or None,
        kind=fields.kind,
        level=fields.level,
        title=_text(fields.title, "title", 200, required=True),
        description=_text(fields.description, "description", 4000),
        owner=_text(fields.owner, "owner unit", 100, required=True),
        owner_person=_text(fields.owner_person, "owner person", 100, required=True),
        owner_phone=_phone(fields.owner_phone),
        measures=_text(fields.measures, "measures", 4000),
        evidence="",
        due_at=fields.due_at,
        created_by=actor.username,
        created_at=now,
        modified_at=now,
    )
    _place(risk, unit, fields.lon, fields.lat)
    session.add(risk)
    _ref(session, risk)
    audit(
        session,
        actor.username,
        "risk_add",
        f"risk:{risk.id}",
        f"{risk.ref} {risk.kind} {risk.level}",
        remote_addr,
        now,
    )
    session.flush()
    return risk


EDITABLE = ("kind", "level", "title", "description", "measures", "due_at", "area_code", "lon", "lat")


def edit_risk(
    session: Session,
    scope: AreaScope,
    risk_id: int,
    actor: UserAccount,
    now: datetime,
    remote_addr: str = "",
    **changes: Any,
) -> Risk:
    """Change some of :data:`EDITABLE` of an open risk in scope; the audit row names the fields changed."""
    _check_account(actor)
    unknown = sorted(set(changes) - set(EDITABLE))
    if unknown:
        raise RiskError(f"cannot edit {', '.join(unknown)}", "invalid")
    risk = _risk_in_scope(session, scope, risk_id)
    if risk.closed_at is not None:
        raise RiskError(f"risk {risk_id} is closed (销号)", "closed")
    if "kind" in changes:
        if changes["kind"] not in RISK_KINDS:
            raise RiskError(f"unknown kind {changes['kind']!r}", "unknown_kind")
        risk.kind = changes["kind"]
    if "level" in changes:
        if changes["level"] not in RISK_LEVELS:
            raise RiskError(f"unknown level {changes['level']!r}", "unknown_level")
        risk.level = changes["level"]
    if "title" in changes:
        risk.title = _text(changes["title"], "title", 200, required=True)
    if "description" in changes:
        risk.description = _text(changes["description"], "description", 4000)
    if "measures" in changes:
        risk.measures = _text(changes["measures"], "measures", 4000)
    if "due_at" in changes:
        if not isinstance(changes["due_at"], datetime) or changes["due_at"].tzinfo is None:
            raise RiskError("the 销号 deadline must be a timezone-aware datetime", "bad_due")
        risk.due_at = changes["due_at"]
    if "area_code" in changes or "lon" in changes or "lat" in changes:
        unit = _unit(
            session,
            scope,
            changes.get("area_code") or risk.grid_code or risk.community_code or risk.street_code or "",
        )
        _place(risk, unit, changes.get("lon"), changes.get("lat"))
    changed = sorted(changes)
    risk.modified_at = now
    audit(session, actor.username, "risk_edit", f"risk:{risk.id}", ", ".join(changed), remote_addr, now)
    session.flush()
    return risk


def reassign_risk(
    session: Session,
    scope: AreaScope,
    risk_id: int,
    actor: UserAccount,
    now: datetime,
    owner: str,
    owner_person: str,
    owner_phone: str | None,
    remote_addr: str = "",
) -> Risk:
    """Give an open risk in scope to another owner unit and person."""
    _check_account(actor)
    risk = _risk_in_scope(session, scope, risk_id)
    if risk.closed_at is not None:
        raise RiskError(f"risk {risk_id} is closed (销号)", "closed")
    before = f"{risk.owner}/{risk.owner_person}"
    risk.owner = _text(owner, "owner unit", 100, required=True)
    risk.owner_person = _text(owner_person, "owner person", 100, required=True)
    risk.owner_phone = _phone(owner_phone)
    risk.modified_at = now
    detail = f"{before} → {risk.owner}/{risk.owner_person}"
    audit(session, actor.username, "risk_assign", f"risk:{risk.id}", detail, remote_addr, now)
    session.flush()
    return risk


def close_risk(
    session: Session,
    scope: AreaScope,
    risk_id: int,
    actor: UserAccount,
    now: datetime,
    measures: str,
    evidence: str,
    remote_addr: str = "",
) -> Risk:
    """销号: close an open risk in scope with the measures taken and the evidence (both required)."""
    _check_account(actor)
    risk = _risk_in_scope(session, scope, risk_id)
    if risk.closed_at is not None:
        raise RiskError(f"risk {risk_id} is already closed (销号)", "closed")
    risk.measures = _text(measures, "measures", 4000, required=True)
    risk.evidence = _text(evidence, "evidence", 4000, required=True)
    risk.closed_at, risk.closed_by, risk.modified_at = now, actor.username, now
    late = risk.due_at is not None and risk.due_at < now
    detail = f"{risk.ref} closed" + (" after its deadline" if late else "")
    audit(session, actor.username, "risk_close", f"risk:{risk.id}", detail, remote_addr, now)
    session.flush()
    return risk


# --- import and export --------------------------------------------------------------------------


def _number(text: str, low: float, high: float) -> float | None:
    try:
        value = float(text)
    except ValueError:
        return None
    return value if low <= value <= high else None


def _risk_inside(risk: Risk, scope: AreaScope) -> bool:
    return scope.contains(risk.grid_code or risk.community_code or risk.street_code)


def load_ledger(
    session: Session,
    path: str | Path,
    actor: str = "cli",
    now: datetime | None = None,
    scope: AreaScope | None = None,
) -> ImportReport:
    """Check the ledger, then (only when every row is good) add its risks or update those it numbers.

    With ``scope`` (an upload on ``/risks``: the account's area), a place outside it is a bad row
    (``area_out_of_scope``), and so is a 台账编号 of a risk outside it (``ref_taken``: the file may not
    update another area's risk, nor learn more of it than that the number is taken)."""
    path = Path(path)
    report = ImportReport(str(path), "risks")
    table = read_table(path, COLUMNS, REQUIRED, report)
    if table is None:
        return report
    codes = sorted({row["area_code"] for _, row in table if row["area_code"]})
    units: dict[str, AdminUnit] = {}
    for i in range(0, len(codes), 500):
        for found in session.scalars(select(AdminUnit).where(AdminUnit.code.in_(codes[i : i + 500]))):
            if found.level in ("street", "community", "grid"):
                units[found.code] = found
    refs = sorted({row["ref"] for _, row in table if row["ref"]})
    existing: dict[str, Risk] = {}
    for i in range(0, len(refs), 500):
        existing.update(
            {r.ref or "": r for r in session.scalars(select(Risk).where(Risk.ref.in_(refs[i : i + 500])))}
        )
    seen: dict[str, int] = {}
    good: list[tuple[dict[str, Any], str | None]] = []
    for number, row in table:
        key = row["ref"] or None
        errors_before = len(report.errors)
        kind = parse_kind(row["kind"])
        if kind is None and row["kind"]:
            report.error(number, key, "unknown_kind", kind=row["kind"])
        elif kind is None:
            report.error(number, key, "missing_kind")
        level = parse_level(row["level"])
        if level is None and row["level"]:
            report.error(number, key, "unknown_level", level=row["level"])
        elif level is None:
            report.error(number, key, "missing_level")
        if not row["title"]:
            report.error(number, key, "missing_title")
        if not row["owner"]:
            report.error(number, key, "missing_owner")
        if not row["owner_person"]:
            report.error(number, key, "missing_owner_person")
        unit = units.get(row["area_code"])
        if not row["area_code"]:
            report.error(number, key, "missing_area_code")
        elif unit is None:
            report.error(number, key, "unknown_area", area=row["area_code"])
        elif scope is not None and not scope.contains(unit.code):
            report.error(number, key, "area_out_of_scope", area=row["area_code"])
        if scope is not None and key in existing and not _risk_inside(existing[key], scope):
            report.error(number, key, "ref_taken", ref=key)
        phone = normalise_phone(row["owner_phone"]) if row["owner_phone"] else None
        if row["owner_phone"] and phone is None:
            report.error(number, key, "bad_phone", phone=row["owner_phone"])
        due = parse_day_end(row["due"]) if row["due"] else None
        if due is None and row["due"]:
            report.error(number, key, "bad_due", due=row["due"])
        elif due is None:
            report.error(number, key, "missing_due")
        closed = parse_day_end(row["closed"]) if row["closed"] else None
        if row["closed"] and closed is None:
            report.error(number, key, "bad_closed", closed=row["closed"])
        lon = _number(row["lon"], 73, 136) if row["lon"] else None
        lat = _number(row["lat"], 3, 54) if row["lat"] else None
        if (row["lon"] or row["lat"]) and (lon is None or lat is None):
            report.error(number, key, "bad_position", lon=row["lon"], lat=row["lat"])
        ident = key or f"{row['title']}@{row['area_code']}"
        if ident in seen:
            report.error(number, key, "duplicate_row", first=seen[ident])
        else:
            seen[ident] = number
        if len(report.errors) > errors_before or unit is None:
            continue
        values: dict[str, Any] = {
            "kind": kind,
            "level": level,
            "title": row["title"][:200],
            "description": row["description"],
            "owner": row["owner"][:100],
            "owner_person": row["owner_person"][:100],
            "owner_phone": phone,
            "measures": row["measures"],
            "due_at": due,
            "closed_at": closed,
            "closed_by": actor if closed else None,
            "evidence": row["evidence"],
            "lon": lon if lon is not None else unit.label_lon,
            "lat": lat if lat is not None else unit.label_lat,
            "unit": unit.code,
        }
        good.append((values, key))
    if report.errors:
        return report
    now = now or datetime.now(TZ)
    added = updated = 0
    for values, key in good:
        code = values.pop("unit")
        risk = existing.get(key or "")
        if risk is None:
            risk = Risk(ref=key, created_by=actor, created_at=now)
            session.add(risk)
            added += 1
        else:
            updated += 1
            for column in ("due_at", "closed_at"):  # a date that names the stored day keeps its time
                if local_day(getattr(risk, column)) == local_day(values[column]):
                    values[column] = getattr(risk, column)
            for column in ("lon", "lat"):  # the export's six decimals name the stored position
                old = getattr(risk, column)
                if (
                    old is not None
                    and values[column] is not None
                    and round(old, 6) == round(values[column], 6)
                ):
                    values[column] = old
            if risk.closed_at is not None and values["closed_at"] is not None:
                values["closed_by"] = risk.closed_by
        for name, value in values.items():
            setattr(risk, name, value)
        for name, value in place_columns(code).items():
            setattr(risk, name, value)
        risk.modified_at = now
        _ref(session, risk)
    report.loaded = added + updated
    report.replaced = updated
    detail = f"{path.name}: {added} added, {updated} updated"
    audit(session, actor, "risks_load", f"file:{path.name}", detail, "", now)
    session.flush()
    return report


def ledger_rows(
    session: Session, area: str | None = None, include_closed: bool = True
) -> Iterator[list[Any]]:
    """The ledger of ``area`` (any unit code; all when None) in :data:`EXPORT_HEADER` order; it loads
    back as updates of the same risks."""
    stmt = select(Risk).order_by(Risk.id)
    if area:
        stmt = stmt.where(AreaScope.of(area).clause(Risk))
    if not include_closed:
        stmt = stmt.where(Risk.closed_at.is_(None))
    risks = list(session.scalars(stmt))
    codes = {r.grid_code or r.community_code or r.street_code or "" for r in risks}
    names = (
        dict(
            session.execute(
                select(AdminUnit.code, AdminUnit.name).where(AdminUnit.code.in_(sorted(codes)))
            ).all()
        )
        if codes
        else {}
    )
    for r in risks:
        code = r.grid_code or r.community_code or r.street_code or ""
        yield [
            r.ref or "",
            label("risk_kind", r.kind),
            label("risk_level", r.level),
            r.title,
            code,
            names.get(code, ""),
            r.owner,
            r.owner_person,
            r.owner_phone or "",
            r.measures,
            local_day(r.due_at),
            r.description,
            round(r.lon, 6) if r.lon is not None else "",
            round(r.lat, 6) if r.lat is not None else "",
            local_day(r.closed_at),
            r.evidence,
        ]


__all__ = [
    "COLUMNS",
    "EXPORT_HEADER",
    "RiskError",
    "RiskFields",
    "RiskNotFound",
    "close_risk",
    "create_risk",
    "edit_risk",
    "ledger_rows",
    "load_ledger",
    "parse_day_end",
    "parse_kind",
    "parse_level",
    "reassign_risk",
]
