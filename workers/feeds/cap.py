"""CAP (Common Alerting Protocol) 1.2 alert documents → one :class:`AlertRecord` per ``<alert>``.

Bytes in, :class:`~workers.feeds.records.ParseResult` out; no network, no database.

- Parsed by :mod:`workers.feeds.xmlsafe` (no DTD, no entities, no external references, no XInclude);
  the encoding in the XML declaration is honoured (ISO-8859-1 documents parse).
- Validated against the official OASIS XSD vendored in ``schemas/`` (no remote imports; the XSD's
  only foreign content is an ``xs:any`` for XML signatures with ``processContents="lax"``, so nothing
  is loaded for it). CAP 1.1 (``urn:oasis:names:tc:emergency:cap:1.1``) is accepted too, checked
  against the 1.1 XSD and mapped the same way. CAP 1.0 and anything else is rejected.
- Beyond the schema: an ``Update`` or ``Cancel`` must name the alerts it acts on in ``<references>``
  (``sender,identifier,sent`` triples separated by whitespace); the record's ``references`` are their
  identifiers.
- Several ``<info>`` blocks are usually the same warning in several languages: the record takes the
  ``zh-CN`` one (or any ``zh*``) when present, else the first. An alert without ``<info>`` (a bare
  ``Cancel``) gives a record with severity ``Unknown``.
- Areas: every ``<polygon>`` and ``<circle>`` of the chosen info's areas goes into one geometry (see
  :mod:`workers.feeds._cap_area`); ``<geocode>`` pairs are kept in ``geocodes``; ``areaDesc`` texts are
  joined with ``"; "``. An unreadable polygon or circle rejects the document.
- Severity → Chinese signal colour: Minor blue 蓝, Moderate yellow 黄, Severe orange 橙, Extreme red
  红, Unknown ``""``. ``onset`` is ``<onset>``, else ``<effective>``. Times are converted to UTC.
- Text (headline, description …) is kept verbatim as plain text; escaping is the display's job.

A problem with the document raises :class:`DocumentRejected` with the reason.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET  # noqa: S405 - only the Element type; parsing is in xmlsafe
from datetime import datetime
from functools import lru_cache
from importlib import resources
from typing import Any

import xmlschema

from . import _cap_area, xmlsafe
from ._times import BadTime, parse_optional
from .records import AlertRecord, DocumentRejected, ParseResult

CAP12 = "urn:oasis:names:tc:emergency:cap:1.2"
CAP11 = "urn:oasis:names:tc:emergency:cap:1.1"
_SCHEMA_FILES = {CAP12: "cap12.xsd", CAP11: "cap11.xsd"}
_OLD_NAMESPACES = ("http://www.incident.com/cap/1.0", "urn:oasis:names:tc:emergency:cap:1.0")

COLOURS = {"Minor": "blue", "Moderate": "yellow", "Severe": "orange", "Extreme": "red", "Unknown": ""}

# (words in the event text, kind); checked before the CAP category
_EVENT_KINDS = (
    (("滑坡", "泥石流", "崩塌", "地质灾害", "landslide", "mudslide", "debris flow"), "landslide"),
    (("火", "fire", "smoke"), "fire"),
    (("暴雨", "大风", "高温", "雷电", "寒潮", "大雾", "冰雹", "台风", "暴雪", "干旱", "道路结冰"), "weather"),
)
_CATEGORY_KINDS = {"Met": "weather", "Fire": "fire", "Geo": "geo"}


def parse(body: bytes) -> ParseResult:
    """Parse one CAP ``<alert>`` document into a ParseResult holding one AlertRecord."""
    root = xmlsafe.parse(body)
    ns = xmlsafe.namespace(root.tag) if isinstance(root.tag, str) else ""
    if xmlsafe.local(root.tag) != "alert":
        raise DocumentRejected(f"not a CAP alert: root element <{xmlsafe.local(root.tag)}>")
    if ns in _OLD_NAMESPACES:
        raise DocumentRejected(f"CAP 1.0 is not supported (namespace {ns}); send CAP 1.2")
    if ns not in _SCHEMA_FILES:
        raise DocumentRejected(f"not a CAP 1.2 alert: namespace {ns or '(none)'!r}")
    _validate(root, ns)
    return ParseResult(alerts=[_record(root, body)])


def colour(severity: str) -> str:
    """The Chinese signal colour name for a CAP severity (``""`` when unknown)."""
    return COLOURS.get(severity, "")


def reference_ids(references: str) -> tuple[str, ...]:
    """The identifiers named by a CAP ``<references>`` value (``sender,identifier,sent`` triples)."""
    ids: list[str] = []
    for triple in references.split():
        parts = triple.split(",")
        if len(parts) != 3 or not parts[1]:
            raise DocumentRejected(f"references entry {triple!r} is not 'sender,identifier,sent'")
        ids.append(parts[1])
    return tuple(ids)


@lru_cache(maxsize=2)
def schema(ns: str = CAP12) -> xmlschema.XMLSchema:
    """The OASIS XSD for a CAP namespace, loaded once per process from the package (never the web)."""
    source = resources.files("workers.feeds.schemas").joinpath(_SCHEMA_FILES[ns])
    with resources.as_file(source) as path:
        return xmlschema.XMLSchema(str(path), allow="sandbox")


def _validate(root: ET.Element, ns: str) -> None:
    resource = xmlschema.XMLResource(root, allow="none")  # the tree is already parsed: load nothing
    error = next(schema(ns).iter_errors(resource), None)
    if error is not None:
        where = f" at {error.path.replace('{' + ns + '}', '')}" if error.path else ""
        reason = (error.reason or str(error)).strip().splitlines()[0]
        raise DocumentRejected(f"CAP schema violation{where}: {reason}")


def _record(root: ET.Element, body: bytes) -> AlertRecord:
    msg_type = xmlsafe.child_text(root, "msgType")
    refs = reference_ids(xmlsafe.child_text(root, "references"))
    if msg_type in ("Update", "Cancel") and not refs:
        raise DocumentRejected(f"CAP {msg_type} without references: it must name the alerts it acts on")
    fields: dict[str, Any] = {"kind": "other", "event": "", "severity": "Unknown", "colour": ""}
    info = _choose_info(xmlsafe.children(root, "info"))
    if info is not None:
        fields.update(_info_fields(info))
    return AlertRecord(
        external_id=xmlsafe.child_text(root, "identifier"),
        msg_type=msg_type,
        sent=_time(xmlsafe.child_text(root, "sent"), "sent"),
        references=refs,
        raw=_raw_text(root, body),
        **fields,
    )


def _choose_info(infos: list[ET.Element]) -> ET.Element | None:
    if not infos:
        return None
    langs = [xmlsafe.child_text(i, "language").lower() for i in infos]
    for wanted in ("zh-cn", "zh"):
        for info, lang in zip(infos, langs, strict=True):
            if lang == wanted or (wanted == "zh" and lang.startswith("zh")):
                return info
    return infos[0]


def _info_fields(info: ET.Element) -> dict[str, Any]:
    severity = xmlsafe.child_text(info, "severity") or "Unknown"
    event = xmlsafe.child_text(info, "event")
    categories = [xmlsafe.text(c) for c in xmlsafe.children(info, "category")]
    shapes: list[dict[str, Any]] = []
    descs: list[str] = []
    geocodes: list[tuple[str, str]] = []
    for area in xmlsafe.children(info, "area"):
        desc = xmlsafe.child_text(area, "areaDesc")
        if desc:
            descs.append(desc)
        try:
            shapes += [_cap_area.polygon(xmlsafe.text(p)) for p in xmlsafe.children(area, "polygon")]
            shapes += [_cap_area.circle(xmlsafe.text(c)) for c in xmlsafe.children(area, "circle")]
        except _cap_area.BadArea as exc:
            raise DocumentRejected(f"bad area {desc!r}: {exc}") from None
        for code in xmlsafe.children(area, "geocode"):
            geocodes.append((xmlsafe.child_text(code, "valueName"), xmlsafe.child_text(code, "value")))
    onset = xmlsafe.child_text(info, "onset") or xmlsafe.child_text(info, "effective")
    return {
        "kind": _kind(event, categories),
        "event": event,
        "severity": severity,
        "colour": colour(severity),
        "urgency": xmlsafe.child_text(info, "urgency"),
        "certainty": xmlsafe.child_text(info, "certainty"),
        "onset": _time(onset, "onset"),
        "expires": _time(xmlsafe.child_text(info, "expires"), "expires"),
        "headline": xmlsafe.child_text(info, "headline"),
        "description": xmlsafe.child_text(info, "description"),
        "area_desc": "; ".join(descs),
        "geometry": _cap_area.combine(shapes),
        "geocodes": tuple(geocodes),
    }


def _kind(event: str, categories: list[str]) -> str:
    lowered = event.lower()
    for words, kind in _EVENT_KINDS:
        if any(word in lowered for word in words):
            return kind
    for category in categories:
        if category in _CATEGORY_KINDS:
            return _CATEGORY_KINDS[category]
    return "other"


def _time(text: str, name: str) -> datetime | None:
    try:
        return parse_optional(text)
    except BadTime as exc:
        raise DocumentRejected(f"{name}: {exc}") from None


def _raw_text(root: ET.Element, body: bytes) -> str:
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError:  # another declared encoding: the parsed tree, re-serialised
        return xmlsafe.serialise(root)
