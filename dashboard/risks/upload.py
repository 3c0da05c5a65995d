"""导入台账: an XLSX or CSV upload on ``/risks``, loaded by :func:`data.ledger.load_ledger` with the
contract of ``gridcc risks load`` — every bad row shown with its reason, nothing loaded from a bad file —
and the viewer's scope: a row placed outside it, or numbering another area's risk, is a bad row.

The file goes to a private temporary directory only for the reader (it reads by suffix) and is removed
at once; its name is only shown, never used as a path. The load runs in one transaction that is
committed only when every row is good.
"""

from __future__ import annotations

import base64
import binascii
import re
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from dash import dcc, html

from data.auth import scope_of
from data.db import transaction
from data.ledger import load_ledger
from data.tabular import SUFFIXES
from layers import versions

from ..i18n import t
from ..redis_or import redis_or
from ..services import services
from . import ids
from .submit import manager

MAX_BYTES = 5 * 1024 * 1024
_UNSAFE = re.compile(r"[\x00-\x1f\x7f/\\:*?\"<>|]")


def upload_box(lang: str) -> html.Div:
    return html.Div(
        [
            dcc.Upload(
                html.Span(t("ledger_import", lang), className="desk-open risks-import-button"),
                id=ids.UPLOAD,
                accept=".xlsx,.csv",
                multiple=False,
                max_size=MAX_BYTES,
                className="risks-upload",
            ),
            html.Div("", id=ids.UPLOAD_REPORT, className="risks-upload-report", role="status"),
        ],
        className="risks-import",
    )


def safe_name(name: Any) -> str:
    """The file's own name as shown (no directory, no control or path characters), ``upload.csv`` when
    nothing is left."""
    text = _UNSAFE.sub("_", Path(str(name or "")).name)[-120:].strip(" .")
    return text or "upload.csv"


def _report(lines: list[str], ok: bool) -> html.Div:
    return html.Div(
        [html.Div(line, className="risks-report-line") for line in lines],
        className="risks-report " + ("is-ok" if ok else "is-bad"),
    )


def load_upload(contents: Any, filename: Any, lang: str, now: datetime | None = None) -> tuple[bool, Any]:
    """(loaded, what to show) for an uploaded ``data:…;base64,…`` file."""
    user = manager()
    if user is None:
        return False, _report([t("ledger_err_not_permitted", lang)], False)
    name = safe_name(filename)
    if Path(name).suffix.lower() not in SUFFIXES:
        return False, _report([t("ledger_upload_not_spreadsheet", lang, name=name)], False)
    if not isinstance(contents, str) or "," not in contents:
        return False, _report([t("ledger_upload_unreadable", lang, name=name)], False)
    try:
        data = base64.b64decode(contents.split(",", 1)[1], validate=True)
    except (binascii.Error, ValueError):
        return False, _report([t("ledger_upload_unreadable", lang, name=name)], False)
    if len(data) > MAX_BYTES:
        return False, _report(
            [t("ledger_upload_too_big", lang, name=name, mb=MAX_BYTES // 1024 // 1024)], False
        )
    now = now or datetime.now(UTC)
    svc = services()
    with tempfile.TemporaryDirectory(prefix="gridcc-risks-") as folder:
        path = Path(folder) / name
        path.write_bytes(data)
        with transaction(svc.sessions) as session:
            # a bad file: load_ledger returns before its first write (the transaction commits nothing)
            report = load_ledger(session, path, actor=user.username, now=now, scope=scope_of(user))
        report.path = name
        lines = report.lines(lang)
    if report.ok:
        redis_or(None, lambda: versions.bump(svc.redis, ["risks"]))
    return report.ok, _report(lines, report.ok)
