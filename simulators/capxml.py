"""CAP 1.2 alert documents and their ATOM index, built with ``xml.etree`` in the schema's element order.

CAP times are ``YYYY-MM-DDThh:mm:ss+08:00`` (no fractions, no ``Z``: the OASIS schema forbids both);
polygons are ``lat,lon`` pairs, first = last; circles ``lat,lon radius_km``.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

CAP_NS = "urn:oasis:names:tc:emergency:cap:1.2"
ATOM_NS = "http://www.w3.org/2005/Atom"
SEVERITY_COLOUR = {"Minor": "蓝色", "Moderate": "黄色", "Severe": "橙色", "Extreme": "红色"}


def cap_time(value: datetime, tz: ZoneInfo) -> str:
    return value.astimezone(tz).replace(microsecond=0).isoformat()


@dataclass
class CapMessage:
    identifier: str
    sender: str
    sent: datetime
    msg_type: str  # Alert | Update | Cancel
    references: list[str]  # "sender,identifier,sent" triples
    event: str
    category: str  # Met | Geo
    urgency: str
    severity: str
    certainty: str
    onset: datetime
    expires: datetime
    sender_name: str
    headline: str
    description: str
    instruction: str
    area_desc: str
    polygon: str = ""
    circle: str = ""
    parameters: dict[str, str] = field(default_factory=dict)


def render_alert(m: CapMessage, tz: ZoneInfo) -> bytes:
    ET.register_namespace("", CAP_NS)

    def sub(parent: ET.Element, tag: str, text: str | None = None) -> ET.Element:
        el = ET.SubElement(parent, f"{{{CAP_NS}}}{tag}")
        el.text = text
        return el

    root = ET.Element(f"{{{CAP_NS}}}alert")
    sub(root, "identifier", m.identifier)
    sub(root, "sender", m.sender)
    sub(root, "sent", cap_time(m.sent, tz))
    sub(root, "status", "Actual")
    sub(root, "msgType", m.msg_type)
    sub(root, "scope", "Public")
    if m.references:
        sub(root, "references", " ".join(m.references))
    info = sub(root, "info")
    sub(info, "language", "zh-CN")
    sub(info, "category", m.category)
    sub(info, "event", m.event)
    sub(info, "responseType", "AllClear" if m.msg_type == "Cancel" else "Prepare")
    sub(info, "urgency", m.urgency)
    sub(info, "severity", m.severity)
    sub(info, "certainty", m.certainty)
    sub(info, "effective", cap_time(m.sent, tz))
    sub(info, "onset", cap_time(m.onset, tz))
    sub(info, "expires", cap_time(m.expires, tz))
    sub(info, "senderName", m.sender_name)
    sub(info, "headline", m.headline)
    sub(info, "description", m.description)
    sub(info, "instruction", m.instruction)
    for name, value in m.parameters.items():
        p = sub(info, "parameter")
        sub(p, "valueName", name)
        sub(p, "value", value)
    area = sub(info, "area")
    sub(area, "areaDesc", m.area_desc)
    if m.polygon:
        sub(area, "polygon", m.polygon)
    if m.circle:
        sub(area, "circle", m.circle)
    return ET.tostring(root, encoding="utf-8", xml_declaration=True)


@dataclass(frozen=True)
class IndexEntry:
    identifier: str
    headline: str
    sent: datetime
    msg_type: str


def render_index(
    entries: list[IndexEntry], base_url: str, title: str, updated: datetime, tz: ZoneInfo
) -> bytes:
    """An ATOM feed with one entry per CAP message, each linking to its document."""
    ET.register_namespace("", ATOM_NS)

    def sub(parent: ET.Element, tag: str, text: str | None = None, **attrs: str) -> ET.Element:
        el = ET.SubElement(parent, f"{{{ATOM_NS}}}{tag}", attrs)
        el.text = text
        return el

    root = ET.Element(f"{{{ATOM_NS}}}feed")
    sub(root, "id", f"{base_url}/cap/index.atom")
    sub(root, "title", title)
    sub(root, "updated", cap_time(updated, tz))
    author = sub(root, "author")
    sub(author, "name", title)
    sub(root, "link", rel="self", href=f"{base_url}/cap/index.atom")
    for e in entries:
        entry = sub(root, "entry")
        sub(entry, "id", f"{base_url}/cap/alerts/{e.identifier}.xml")
        sub(entry, "title", e.headline)
        sub(entry, "updated", cap_time(e.sent, tz))
        sub(entry, "summary", f"{e.msg_type}: {e.headline}")
        sub(
            entry,
            "link",
            rel="alternate",
            type="application/cap+xml",
            href=f"{base_url}/cap/alerts/{e.identifier}.xml",
        )
    return ET.tostring(root, encoding="utf-8", xml_declaration=True)
