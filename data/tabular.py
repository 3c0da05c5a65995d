"""Spreadsheets in and out (CSV or XLSX by the file's suffix), and the all-or-nothing import report.

Used by ``gridcc staff load|export`` and ``gridcc risks load|export``. A header cell may be the column's
code (``grid_code``) or one of its Chinese names (``网格编码``); cells come back as stripped text
(numbers lose a trailing ``.0``; dates of an XLSX become ISO text), blanks as ``""``.

The import contract is the one of ``gridcc geo load``: every row is checked, every problem reported with
its row number (the spreadsheet's own: the header is row 1) and reason, and nothing is written when any
row is bad. A reason is a code with values (:mod:`data.row_issues`), put in words in the reader's language
only when the report is shown (``ImportReport.lines(lang)``).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

from .row_issues import Column, RowIssue, issue_lines
from .text import DEFAULT, t

SUFFIXES = (".csv", ".xlsx")


@dataclass
class ImportReport:
    """What a load found: its rows, the number it loaded and every problem as a :class:`RowIssue` (a reason
    code with values), put in words in a language by :meth:`lines`."""

    path: str
    what: str  # "staff" | "risks": names the summary line (import_loaded_<what>)
    noun: str | None = None  # what a row's key is ("grid": import_key_grid); None shows the key alone
    rows: int = 0
    loaded: int = 0
    replaced: int = 0  # rows the load replaced (the staff of the grids in the file)
    errors: list[RowIssue] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors

    def error(self, row: int | None, key: str | None, reason: str, /, **values: object) -> None:
        """A problem: ``reason`` is a code, its words the catalogue's ``import_<reason>`` with ``values``."""
        self.errors.append(RowIssue(row, key, reason, values, self.noun))

    def lines(self, lang: str = DEFAULT) -> list[str]:
        """One problem a line in row order, then a summary line, in ``lang``."""
        out = issue_lines(self.errors, (), lang)
        if self.ok:
            summary = f"import_loaded_{self.what}" + ("_replaced" if self.replaced else "")
            out.append(
                t(summary, lang, path=self.path, rows=self.rows, loaded=self.loaded, replaced=self.replaced)
            )
        else:
            out.append(t("import_failed", lang, path=self.path, errors=len(self.errors), rows=self.rows))
        return out


def cell_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    return str(value).strip()


def read_table(
    path: Path, columns: Mapping[str, Sequence[str]], required: Sequence[str], report: ImportReport
) -> list[tuple[int, dict[str, str]]] | None:
    """The rows of ``path`` as ``(row number, {column code: text})``, blank rows left out; None (with the
    reasons in ``report``) when the file cannot be read or lacks a required column. ``columns`` maps each
    column code to the other names its header may have."""
    if path.suffix.lower() not in SUFFIXES:
        report.error(None, None, "not_spreadsheet", name=path.name)
        return None
    try:
        raw = _read_xlsx(path) if path.suffix.lower() == ".xlsx" else _read_csv(path)
    except Exception as exc:  # noqa: BLE001 - any reader failure is a report line, not a crash
        report.error(None, None, "cannot_read", error=str(exc))
        return None
    if not raw:
        report.error(None, None, "empty_file")
        return None
    aliases = {name.strip().lower(): code for code, names in columns.items() for name in (code, *names)}
    header = [aliases.get(cell_text(h).lower()) for h in raw[0]]
    missing = [c for c in required if c not in header]
    if missing:
        report.error(None, None, "missing_columns", columns=[Column(c, tuple(columns[c])) for c in missing])
        return None
    rows = []
    for number, values in enumerate(raw[1:], start=2):
        cells = [cell_text(v) for v in values]
        if not any(cells):
            continue
        row = {code: "" for code in columns}
        for code, text in zip(header, cells, strict=False):
            if code is not None and text:
                row[code] = text
        rows.append((number, row))
    report.rows = len(rows)
    return rows


def _read_csv(path: Path) -> list[list[Any]]:
    data = path.read_bytes()
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = data.decode("gb18030")  # a CSV saved by Excel on a Chinese Windows
    return [list(r) for r in csv.reader(io.StringIO(text))]


def _read_xlsx(path: Path) -> list[list[Any]]:
    from openpyxl import load_workbook

    book = load_workbook(path, read_only=True, data_only=True)
    try:
        sheet = book.worksheets[0]
        return [list(r) for r in sheet.iter_rows(values_only=True)]
    finally:
        book.close()


def write_table(path: Path | None, header: Sequence[str], rows: Iterable[Sequence[Any]], title: str) -> str:
    """Write CSV (also to stdout: ``path`` None returns the text) or XLSX (by the suffix)."""
    if path is not None and path.suffix.lower() == ".xlsx":
        from openpyxl import Workbook

        book = Workbook()
        sheet = book.active
        assert sheet is not None
        sheet.title = title
        sheet.append(list(header))
        for row in rows:
            sheet.append(list(row))
        sheet.freeze_panes = "A2"
        book.save(path)
        return ""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    text = buffer.getvalue()
    if path is not None:
        path.write_text(text, encoding="utf-8-sig")  # Excel opens a UTF-8 CSV with its BOM correctly
    return text
