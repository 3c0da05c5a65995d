"""The cases export as a CSV file: its columns in the UI language, one row per case, and the guard against
formula injection (titles and names come from untrusted feeds).

UTF-8 with a byte-order mark, so that Excel in zh-CN opens it as UTF-8 and shows the Chinese text; CRLF
line ends (RFC 4180). Pure functions: no request, no database.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from data.masking import mask_personal_text, mask_phone
from data.queries import CaseRow, label
from data.text import local_time, t

BOM = "\ufeff"
# A spreadsheet reads a cell starting with one of these as a formula (or, for tab and CR, strips them
# and reads what follows): such a cell gets a leading apostrophe, which Excel and LibreOffice show as text.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")

# The columns, in order: each header is ``export_col_<name>`` in the text catalogue.
COLUMNS = (
    "id",
    "title",
    "category",
    "street",
    "community",
    "grid",
    "status",
    "department",
    "deadline",
    "overdue",
    "escalation",
    "supervision",
    "grid_workers",
    "grid_worker_phones",
    "reporter_phone",
)


def headers(lang: str) -> tuple[str, ...]:
    return tuple(t(f"export_col_{name}", lang) for name in COLUMNS)


@dataclass(frozen=True)
class Contacts:
    """A case's personal data as the export may hold it: raw phones (shaped later by the viewer's policy)."""

    workers: tuple[tuple[str, str], ...] = ()  # (name, phone) of the grid's grid workers
    reporter_phone: str = ""


def safe_cell(value: object) -> str:
    """The cell's text, with a leading apostrophe when a spreadsheet would take it for a formula."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_START) else text


def phone_for(value: str, policy: str) -> str:
    """A phone as the viewer may get it: ``full`` as stored, ``masked`` (138****5678), ``none`` empty."""
    if not value or policy == "none":
        return ""
    return value if policy == "full" else mask_phone(value)


def case_cells(row: CaseRow, contacts: Contacts, lang: str, tz: str, policy: str) -> list[str]:
    """One CSV row, every cell text (formula-guarded); the title's phones and ID numbers as ``policy``
    says (:func:`data.masking.mask_personal_text`)."""
    deadline = local_time(row.deadline_at, tz, lang)
    names = "、".join(name for name, _ in contacts.workers)
    phones = "、".join(p for p in (phone_for(phone, policy) for _, phone in contacts.workers) if p)
    cells: Sequence[object] = (
        row.id,
        mask_personal_text(row.title, policy),
        row.category_name or t("uncategorised", lang),
        row.street_name,
        row.community_name,
        row.grid_name,
        label("status", row.status, lang),
        row.department_name,
        deadline,
        t("yes" if row.overdue else "no", lang),
        label("escalation", row.escalation_level, lang),
        label("supervision", row.supervision, lang),
        names,
        phones,
        phone_for(contacts.reporter_phone, policy),
    )
    return [safe_cell(c) for c in cells]


def csv_bytes(header: Sequence[str], rows: Iterable[Sequence[str]]) -> bytes:
    """The file: BOM, header, rows; UTF-8, CRLF, fields quoted when they hold a comma, quote or newline."""
    out = io.StringIO()
    out.write(BOM)
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([safe_cell(h) for h in header])
    writer.writerows(rows)
    return out.getvalue().encode("utf-8")
