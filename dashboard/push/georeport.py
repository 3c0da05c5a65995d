"""Open311 GeoReport v2 documents as gridcc serves them, in XML and JSON: the service list and
definitions (gridcc's category catalogue), service requests, the POST answer and the error documents.

Writing only: the web tier never parses XML (a pushed XML document is parsed in the workers, by the
entity-safe parser of ``workers.feeds.xmlsafe``). Text is escaped for XML, and characters XML 1.0
cannot hold are replaced, so a stored description can never break or inject into a document.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from functools import cache
from typing import Any
from xml.sax.saxutils import escape

from flask import Response

from data.seed import load_catalogue

FORMATS = ("json", "xml")
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")
GRID_ATTRIBUTE = "grid_code"


@cache
def services() -> tuple[dict[str, Any], ...]:
    """The catalogue's leaf categories as Open311 services (the codes a request is filed under)."""
    doc = load_catalogue()
    groups = {row["code"]: row["name"] for row in doc["category"] if not row.get("parent")}
    return tuple(
        {
            "service_code": row["code"],
            "service_name": row["name"],
            "description": row.get("name_en", ""),
            "metadata": True,
            "type": "realtime",
            "keywords": row.get("name_en", ""),
            "group": groups.get(row["parent"], ""),
        }
        for row in doc["category"]
        if row.get("parent")
    )


def service_codes() -> frozenset[str]:
    return frozenset(s["service_code"] for s in services())


def definition(code: str) -> dict[str, Any]:
    """A service's definition: its one attribute, the grid code a grid-patrol app may place it by."""
    return {
        "service_code": code,
        "attributes": [
            {
                "variable": True,
                "code": GRID_ATTRIBUTE,
                "datatype": "string",
                "required": False,
                "datatype_description": "a grid code of the district (15 digits), instead of lat/long",
                "order": 1,
                "description": "grid code / 网格编码",
            }
        ],
    }


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return _NOT_XML.sub("\ufffd", str(value))


def _xml_fields(fields: Mapping[str, Any]) -> str:
    parts: list[str] = []
    for key, value in fields.items():
        if isinstance(value, list):
            inner = "".join(f"<{key[:-1]}>{_xml_fields(v)}</{key[:-1]}>" for v in value)
            parts.append(f"<{key}>{inner}</{key}>")
        else:
            parts.append(f"<{key}>{escape(_text(value))}</{key}>")
    return "".join(parts)


def document(
    fmt: str, root: str, item: str, rows: Iterable[Mapping[str, Any]], status: int = 200
) -> Response:
    """A list of ``rows`` as ``<root><item>…</item></root>`` or as a JSON list."""
    rows = list(rows)
    if fmt == "xml":
        body = "".join(f"<{item}>{_xml_fields(r)}</{item}>" for r in rows)
        text = f'<?xml version="1.0" encoding="utf-8"?>\n<{root}>{body}</{root}>'
        response = Response(text, status=status, mimetype="text/xml")
    else:
        response = Response(json.dumps(rows, ensure_ascii=False), status=status, mimetype="application/json")
    response.headers["Cache-Control"] = "no-store"
    return response


def single(fmt: str, root: str, fields: Mapping[str, Any]) -> Response:
    """One object (a service definition) as ``<root>…</root>`` or a JSON object."""
    if fmt == "xml":
        text = f'<?xml version="1.0" encoding="utf-8"?>\n<{root}>{_xml_fields(fields)}</{root}>'
        response = Response(text, mimetype="text/xml")
    else:
        response = Response(json.dumps(fields, ensure_ascii=False), mimetype="application/json")
    response.headers["Cache-Control"] = "no-store"
    return response


def errors(fmt: str, status: int, description: str) -> Response:
    """The standard's error document: ``[{"code": 400, "description": "…"}]`` or
    ``<errors><error><code>400</code><description>…</description></error></errors>``."""
    return document(fmt, "errors", "error", [{"code": status, "description": description}], status)
