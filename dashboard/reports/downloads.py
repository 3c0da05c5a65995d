"""The report's downloads, through the same checks as the page (:mod:`.request`):

- ``GET /reports/report.xlsx?area=&period=&date=`` — the workbook with native charts
  (:func:`data.report_book.workbook_bytes`);
- ``GET /reports/print?…`` — a plain HTML page (no Dash, no script but the print button's) with print
  CSS for A4: the browser's 打印 (or Chromium's ``page.pdf``) makes a clean PDF of it;
- ``GET /reports/print.js`` — the print button (a file from here: the page policy runs no inline script).

A refusal is a short text in both languages (403 for a wall, a role without reports or an area outside
the scope; 400 for a bad period or code). Every download is audited (``export``, target ``report.xlsx``
or ``report.print``).
"""

from __future__ import annotations

from datetime import UTC, datetime
from html import escape

from flask import Blueprint, Flask, Response, request

from data.auth import audit
from data.db import transaction
from data.queries.reports import Report
from data.report_book import workbook_bytes
from data.text import lang_from_query, other, t

from ..auth import current_user
from ..services import services
from . import charts
from .request import Asked, Refusal, read_report
from .sections import Cell, heading, sections

XLSX_PATH = "/reports/report.xlsx"
PRINT_PATH = "/reports/print"
PRINT_JS_PATH = "/reports/print.js"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

PRINT_CSS = """
@page { size: A4; margin: 14mm 12mm; }
* { box-sizing: border-box; }
body { font-family: "Noto Sans CJK SC", "Source Han Sans SC", "Microsoft YaHei", sans-serif;
       color: #111; background: #fff; margin: 0; font-size: 11pt; }
main { max-width: 186mm; margin: 0 auto; padding: 8mm 0; }
h1 { font-size: 20pt; margin: 0 0 4pt; }
.lines { color: #444; font-size: 9.5pt; margin-bottom: 8pt; }
.lines div { display: inline-block; margin-right: 14pt; }
section { margin: 10pt 0; break-inside: avoid; }
section.wide { break-inside: auto; }
h2 { font-size: 13pt; border-bottom: 1.5pt solid #1f3150; padding-bottom: 2pt; margin: 0 0 5pt; }
table { width: 100%; border-collapse: collapse; font-size: 9.5pt; }
th { background: #1f3150; color: #fff; font-weight: 600; text-align: left; padding: 3pt 4pt; }
td { border-bottom: 0.5pt solid #ccc; padding: 2.5pt 4pt; }
tr { break-inside: avoid; }
thead { display: table-header-group; }
.num { text-align: right; font-variant-numeric: tabular-nums; }
.is-good { color: #1b7a3d; } .is-bad { color: #b71c1c; }
.note { color: #666; font-size: 8.5pt; margin-top: 3pt; }
svg { width: 100%; height: auto; display: block; margin: 4pt 0; }
.print-bar { text-align: right; margin-bottom: 6pt; }
.print-bar button { font-size: 12pt; padding: 4pt 14pt; }
@media print { .print-bar { display: none; } main { padding: 0; } }
"""
PRINT_JS = (
    "document.addEventListener('DOMContentLoaded', function () {\n"
    "  var b = document.getElementById('report-print');\n"
    "  if (b) { b.addEventListener('click', function () { window.print(); }); }\n"
    "});\n"
)


def _refused(refusal: Refusal, lang: str) -> Response:
    def say(language: str) -> str:
        return t(refusal.key, language, reason=refusal.reason)

    response = Response(f"{say(lang)}\n{say(other(lang))}\n", status=refusal.status, mimetype="text/plain")
    response.headers["Cache-Control"] = "no-store"
    return response


def _audit(what: str, ask: Asked, report: Report, now: datetime) -> None:
    user = current_user()
    if user is None:
        return
    detail = f"area={ask.area} period={report.period.kind} {report.period.first}..{report.period.last}"
    with transaction(services().sessions) as db:
        audit(db, user.username, "export", what, detail, request.remote_addr or "", now)


def _filename(report: Report, suffix: str) -> str:
    return f"gridcc-report-{report.area}-{report.period.kind}-{report.period.first.isoformat()}{suffix}"


def report_xlsx() -> Response:
    svc = services()
    args = dict(request.args.items())
    lang = lang_from_query(args, svc.settings.language)
    now = datetime.now(UTC)
    ask, found = read_report(args, now)
    if isinstance(found, Refusal):
        return _refused(found, lang)
    body = workbook_bytes(found, lang, svc.settings.timezone)
    _audit("report.xlsx", ask, found, now)
    response = Response(body, mimetype=XLSX)
    response.headers["Content-Disposition"] = f'attachment; filename="{_filename(found, ".xlsx")}"'
    response.headers["Cache-Control"] = "no-store"
    response.headers["Vary"] = "Cookie"
    return response


def _table(headers: list[str], rows: list[list[Cell]]) -> str:
    head = "".join(f"<th>{escape(h)}</th>" for h in headers)
    body = []
    for row in rows:
        cells = []
        for cell in row:
            attrs = "".join(f' {k}="{escape(v)}"' for k, v in cell.attrs.items())
            css = f' class="{escape(cell.css)}"' if cell.css else ""
            cells.append(f"<td{css}{attrs}>{escape(cell.text)}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def print_html(report: Report, lang: str, tz: str) -> str:
    """The print view's HTML: the same sections as the screen, in black on white, charts inline."""
    title, lines = heading(report, lang, tz)
    parts = []
    for s in sections(report, lang, charts.LIGHT):
        inner = f"<h2>{escape(s.title)}</h2>"
        if s.svg:
            inner += s.svg
        if s.headers and s.rows:
            inner += _table(s.headers, s.rows)
        if s.note:
            inner += f'<div class="note">{escape(s.note)}</div>'
        parts.append(f'<section class="report-{s.key}{" wide" if s.wide else ""}">{inner}</section>')
    html_lang = "zh-CN" if lang.startswith("zh") else "en"
    return (
        f'<!DOCTYPE html><html lang="{html_lang}"><head><meta charset="utf-8">'
        f"<title>{escape(title)}</title><style>{PRINT_CSS}</style>"
        f'<script src="print.js"></script></head><body><main>'
        f'<div class="print-bar"><button id="report-print" type="button">'
        f"{escape(t('report_print_button', lang))}</button></div>"
        f"<h1>{escape(title)}</h1>"
        f'<div class="lines">{"".join(f"<div>{escape(x)}</div>" for x in lines)}</div>'
        + "".join(parts)
        + "</main></body></html>"
    )


def report_print() -> Response:
    svc = services()
    args = dict(request.args.items())
    lang = lang_from_query(args, svc.settings.language)
    now = datetime.now(UTC)
    ask, found = read_report(args, now)
    if isinstance(found, Refusal):
        return _refused(found, lang)
    _audit("report.print", ask, found, now)
    response = Response(print_html(found, lang, svc.settings.timezone), mimetype="text/html")
    response.headers["Cache-Control"] = "no-store"
    response.headers["Vary"] = "Cookie"
    return response


def print_js() -> Response:
    response = Response(PRINT_JS, mimetype="text/javascript")
    response.headers["Cache-Control"] = "private, max-age=3600"
    return response


def register_downloads(server: Flask) -> None:
    bp = Blueprint("gridcc_reports", __name__)
    bp.add_url_rule(XLSX_PATH, "report_xlsx", report_xlsx, methods=["GET"])
    bp.add_url_rule(PRINT_PATH, "report_print", report_print, methods=["GET"])
    bp.add_url_rule(PRINT_JS_PATH, "report_print_js", print_js, methods=["GET"])
    server.register_blueprint(bp)
