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
- ``<status>``: only ``Actual`` is a real alert. A valid ``Test``, ``Exercise``, ``System`` or
  ``Draft`` message gives no record but one named :class:`Rejection` with the reason ``"status
  Exercise: not a real alert"``: it is quarantined as a note (the operator can see an exercise came
  through) and the feed stays healthy; it never reaches the wall.
- ``<info>`` blocks (CAP 1.2 §3.2.2): blocks in different languages are renderings of one another; the
  record takes the ``zh-CN`` ones (else any ``zh*``, else the first block's language; no
  ``<language>`` means ``en-US``). Blocks in the SAME language add to each other (one block per
  township, reservoir, …), so all of them are merged: their areas are united (each distinct area
  description, shape and geocode once, in document order); severity, urgency and certainty are the
  highest of the blocks (Extreme > Severe > Moderate > Minor; Immediate > Expected > Future > Past;
  Observed > Likely > Possible > Unlikely); the event and headline (and so the kind) are those of the
  first block of the highest severity; the descriptions are joined, each distinct one once; ``onset``
  is the earliest and ``expires`` the latest given. An alert without ``<info>`` (a bare ``Cancel``)
  gives a record with severity ``Unknown``.
- Areas: every ``<polygon>`` and ``<circle>`` goes into one geometry (see :mod:`workers.feeds._cap_area`);
  an empty or whitespace-only ``<polygon/>`` / ``<circle/>`` is skipped (the area's geocodes and
  description still place it); ``<geocode>`` pairs are kept in ``geocodes``; ``areaDesc`` texts are
  joined with ``"; "``. An unreadable non-empty polygon or circle rejects the document.
- An ``Update`` whose (merged) urgency is ``Past`` is an all-clear: it ends the alerts it references
  like a ``Cancel`` (:attr:`AlertRecord.ends`; applied by :mod:`workers.ingest.alerts`).
- Severity → Chinese signal colour: Minor blue 蓝, Moderate yellow 黄, Severe orange 橙, Extreme red
  红, Unknown ``""``. ``onset`` is ``<onset>``, else ``<effective>``. Times are converted to UTC; the
  schema requires every CAP time to carry its offset, so a time without one is a schema violation.
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
from .records import AlertRecord, DocumentRejected, ParseResult, Rejection

CAP12 = "urn:oasis:names:tc:emergency:cap:1.2"
CAP11 = "urn:oasis:names:tc:emergency:cap:1.1"
_SCHEMA_FILES = {CAP12: "cap12.xsd", CAP11: "cap11.xsd"}
_OLD_NAMESPACES = ("http://www.incident.com/cap/1.0", "urn:oasis:names:tc:emergency:cap:1.0")

ACTUAL = "Actual"  # the only <status> that is a real alert (Test, Exercise, System, Draft are not)

# Orders of the merged info fields, lowest first (CAP 1.1's "Very Likely" sits between Likely and Observed)
_SEVERITIES = ("Unknown", "Minor", "Moderate", "Severe", "Extreme")
_URGENCIES = ("Unknown", "Past", "Future", "Expected", "Immediate")
_CERTAINTIES = ("Unknown", "Unlikely", "Possible", "Likely", "Very Likely", "Observed")

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
    status = xmlsafe.child_text(root, "status")
    if status != ACTUAL:
        identifier = xmlsafe.child_text(root, "identifier") or "(no identifier)"
        reason = f"status {status}: not a real alert"
        note = Rejection(reason=reason, raw=_raw_text(root, body), external_id=identifier)
        return ParseResult(rejections=[note])
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
    infos = _choose_infos(xmlsafe.children(root, "info"))
    if infos:
        fields.update(_info_fields(infos))
    return AlertRecord(
        external_id=xmlsafe.child_text(root, "identifier"),
        msg_type=msg_type,
        sent=_time(xmlsafe.child_text(root, "sent"), "sent"),
        references=refs,
        raw=_raw_text(root, body),
        **fields,
    )


def _choose_infos(infos: list[ET.Element]) -> list[ET.Element]:
    """The blocks of the chosen language: zh-CN, else any zh*, else the first block's (default en-US)."""
    langs = [(xmlsafe.child_text(i, "language") or "en-US").lower() for i in infos]
    chosen = next((lang for lang in langs if lang == "zh-cn"), None)
    chosen = chosen or next((lang for lang in langs if lang.startswith("zh")), None)
    chosen = chosen or (langs[0] if langs else None)
    return [info for info, lang in zip(infos, langs, strict=True) if lang == chosen]


def _rank(order: tuple[str, ...], value: str) -> int:
    return order.index(value) if value in order else 0


def _distinct(values: list[Any]) -> list[Any]:
    """The non-empty values, each once, in order (by their repr: shapes are dicts; linear time)."""
    seen: set[str] = set()
    out: list[Any] = []
    for value in values:
        key = repr(value)
        if value and key not in seen:
            seen.add(key)
            out.append(value)
    return out


def _info_fields(infos: list[ET.Element]) -> dict[str, Any]:
    """The merged fields of the same-language blocks (see the module docstring)."""
    severities = [xmlsafe.child_text(i, "severity") or "Unknown" for i in infos]
    lead = infos[max(range(len(infos)), key=lambda k: (_rank(_SEVERITIES, severities[k]), -k))]
    severity = severities[infos.index(lead)]
    urgency = max((xmlsafe.child_text(i, "urgency") for i in infos), key=lambda u: _rank(_URGENCIES, u))
    certainty = max((xmlsafe.child_text(i, "certainty") for i in infos), key=lambda c: _rank(_CERTAINTIES, c))
    event = xmlsafe.child_text(lead, "event")
    categories = [xmlsafe.text(c) for c in xmlsafe.children(lead, "category")]
    shapes: list[dict[str, Any]] = []
    descs: list[str] = []
    geocodes: list[tuple[str, str]] = []
    for area in (a for info in infos for a in xmlsafe.children(info, "area")):
        desc = xmlsafe.child_text(area, "areaDesc")
        descs.append(desc)
        try:
            shapes += [_cap_area.polygon(t) for t in _shape_texts(area, "polygon")]
            shapes += [_cap_area.circle(t) for t in _shape_texts(area, "circle")]
        except _cap_area.BadArea as exc:
            raise DocumentRejected(f"bad area {desc!r}: {exc}") from None
        for code in xmlsafe.children(area, "geocode"):
            geocodes.append((xmlsafe.child_text(code, "valueName"), xmlsafe.child_text(code, "value")))
    starts = [xmlsafe.child_text(i, "onset") or xmlsafe.child_text(i, "effective") for i in infos]
    onsets = [_time(text, "onset") for text in starts]
    expiries = [_time(xmlsafe.child_text(i, "expires"), "expires") for i in infos]
    return {
        "kind": _kind(event, categories),
        "event": event,
        "severity": severity,
        "colour": colour(severity),
        "urgency": urgency,
        "certainty": certainty,
        "onset": min(filter(None, onsets), default=None),
        "expires": max(filter(None, expiries), default=None),
        "headline": xmlsafe.child_text(lead, "headline"),
        "description": "\n\n".join(_distinct([xmlsafe.child_text(i, "description") for i in infos])),
        "area_desc": "; ".join(_distinct(descs)),
        "geometry": _cap_area.combine(_distinct(shapes)),
        "geocodes": tuple(_distinct(geocodes)),
    }


def _shape_texts(area: ET.Element, name: str) -> list[str]:
    """The non-empty ``<polygon>`` / ``<circle>`` texts of an area (an empty one says nothing)."""
    return [t for t in (xmlsafe.text(e) for e in xmlsafe.children(area, name)) if t]


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
