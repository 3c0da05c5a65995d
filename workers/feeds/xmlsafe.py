"""Safe XML parsing for untrusted feed documents.

Every XML document from a feed goes through :func:`parse`. It uses defusedxml over the standard
library's expat parser with DTDs, entity declarations and external references all forbidden, so:

- a document with a ``<!DOCTYPE ...>`` (and so any entity, internal or external, billion-laughs
  included) is rejected as a whole, before anything in it is resolved;
- XInclude is never processed (ElementTree only does that when asked to, and nothing here asks);
- ``xsi:schemaLocation`` hints and ``<?xml-stylesheet?>`` instructions are inert text;
- nothing is ever fetched from the network or read from disk because of what a document says.

The encoding named in the XML declaration is honoured (expat decodes the bytes). Malformed XML is
rejected with expat's reason and the line and column.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET  # noqa: S405 - only the Element type and ParseError are used

from defusedxml import DefusedXmlException, DTDForbidden, EntitiesForbidden, ExternalReferenceForbidden
from defusedxml.ElementTree import fromstring

from .records import DocumentRejected

MAX_BYTES = 20 * 1024 * 1024  # no department sends a 20 MB document; refuse rather than chew on it

FORBIDDEN = "XML external entity / DTD forbidden"


def parse(body: bytes) -> ET.Element:
    """Parse untrusted XML bytes into an Element, or raise :class:`DocumentRejected` with a reason."""
    if not isinstance(body, bytes | bytearray):
        raise DocumentRejected("XML document must be bytes")
    if len(body) > MAX_BYTES:
        raise DocumentRejected(f"XML document too large ({len(body)} bytes, limit {MAX_BYTES})")
    if not body.strip():
        raise DocumentRejected("empty document")
    try:
        return fromstring(bytes(body), forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except DTDForbidden as exc:
        raise DocumentRejected(f"{FORBIDDEN}: document declares a DTD ({exc.name or 'unnamed'})") from None
    except EntitiesForbidden as exc:
        raise DocumentRejected(f"{FORBIDDEN}: entity declaration {exc.name!r}") from None
    except ExternalReferenceForbidden as exc:
        raise DocumentRejected(f"{FORBIDDEN}: external reference {exc.sysid!r}") from None
    except DefusedXmlException as exc:
        raise DocumentRejected(f"{FORBIDDEN}: {exc}") from None
    except ET.ParseError as exc:
        line, column = exc.position
        reason = str(exc).split(":")[0]
        raise DocumentRejected(f"malformed XML: {reason} at line {line}, column {column}") from None
    except (ValueError, LookupError) as exc:  # e.g. an encoding expat does not know
        raise DocumentRejected(f"malformed XML: {exc}") from None


def local(tag: str | object) -> str:
    """The local name of an element tag, without its ``{namespace}``."""
    if not isinstance(tag, str):  # comments and processing instructions
        return ""
    return tag.rsplit("}", 1)[-1]


def namespace(tag: str) -> str:
    """The namespace URI of a tag (``""`` when it has none)."""
    return tag[1:].split("}", 1)[0] if tag.startswith("{") else ""


def text(element: ET.Element | None) -> str:
    """The element's text, stripped; ``""`` for a missing or empty element."""
    if element is None or element.text is None:
        return ""
    return element.text.strip()


def children(element: ET.Element, name: str) -> list[ET.Element]:
    """The direct children with this local name, whatever their namespace."""
    return [child for child in element if local(child.tag) == name]


def child_text(element: ET.Element, name: str) -> str:
    """The stripped text of the first direct child with this local name (``""`` when absent)."""
    for child in element:
        if local(child.tag) == name:
            return text(child)
    return ""


def has_child(element: ET.Element, name: str) -> bool:
    return any(local(child.tag) == name for child in element)


def serialise(element: ET.Element) -> str:
    """The element back as XML text (for a rejection's raw payload)."""
    return ET.tostring(element, encoding="unicode")
