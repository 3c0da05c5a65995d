"""Untrusted XML: DTDs, entities and external references reject the document; nothing is read or fetched."""

from __future__ import annotations

import json
import urllib.request
from pathlib import Path

import pytest

from workers.feeds import xmlsafe
from workers.feeds.parsers import parse
from workers.feeds.records import DocumentRejected, ParseResult

from ._feed_helpers import conformance, recording_server

MARKER = "SECRET-MARKER-6f1d2c"

BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol9 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
]>
<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2"><identifier>&lol9;</identifier></alert>"""


def _everything_printed(result: ParseResult) -> str:
    """All text a parse result could hand on: records, rejections, errors."""
    parts = [json.dumps(c.to_json(), ensure_ascii=False) for c in result.cases]
    parts += [json.dumps(a.to_json(), ensure_ascii=False) for a in result.alerts]
    parts += [r.reason for r in result.rejections] + [str(result.feed_error)] + result.index_links
    return "\n".join(parts)


def test_well_formed_document_parses() -> None:
    root = xmlsafe.parse(b"<a><b> x </b><b/></a>")
    assert xmlsafe.local(root.tag) == "a"
    assert xmlsafe.child_text(root, "b") == "x"
    assert len(xmlsafe.children(root, "b")) == 2


def test_malformed_xml_gives_line_and_column() -> None:
    with pytest.raises(DocumentRejected) as err:
        xmlsafe.parse(b"<alert>\n  <identifier>1</identifer>\n</alert>")
    assert "malformed XML: mismatched tag at line 2, column" in str(err.value)


@pytest.mark.parametrize("body", [b"", b"   \n", b"not xml at all"])
def test_empty_or_non_xml_is_rejected(body: bytes) -> None:
    with pytest.raises(DocumentRejected):
        xmlsafe.parse(body)


def test_billion_laughs_is_rejected_before_expansion() -> None:
    with pytest.raises(DocumentRejected) as err:
        xmlsafe.parse(BILLION_LAUGHS)
    assert "XML external entity / DTD forbidden" in str(err.value)


def test_internal_entity_alone_is_rejected() -> None:
    with pytest.raises(DocumentRejected, match="DTD forbidden"):
        xmlsafe.parse(b'<!DOCTYPE a [<!ENTITY x "y">]><a>&x;</a>')


def test_declared_encoding_is_honoured() -> None:
    root = xmlsafe.parse(conformance("cap/earthquake-iso8859-1.cap"))
    headline = next(e for e in root.iter() if xmlsafe.local(e.tag) == "headline")
    assert "Usulután" in (headline.text or "")


def test_xee_conformance_file_is_rejected_and_nothing_is_read_or_fetched(tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text(MARKER, encoding="utf-8")
    with recording_server() as (base, seen):
        body = (
            conformance("cap/xee.cap")
            .decode("utf-8")
            .replace("http://localhost:8080", base)
            .replace("http://http://localhost:8080", base)
            .replace("file:///etc/passwd", secret.as_uri())
            .replace('SYSTEM "' + base + '/payload3"', 'SYSTEM "' + secret.as_uri() + '"')
        )
        assert secret.as_uri() in body and base in body
        result = parse("cap", body.encode("utf-8"))
        assert not result.alerts
        assert [r.external_id for r in result.rejections] == [None]
        assert "XML external entity / DTD forbidden" in result.rejections[0].reason
        assert MARKER not in _everything_printed(result)
        assert "LEAKED" not in _everything_printed(result)
        assert seen == []
        # the server does answer: a request made on purpose is recorded
        urllib.request.urlopen(base + "/control", timeout=5).read()  # noqa: S310 - our own local server
        assert seen == ["/control"]


def test_schema_location_and_xinclude_are_inert(tmp_path: Path) -> None:
    """No DTD, so the document parses; the hints in it are never followed."""
    with recording_server() as (base, seen):
        hinted = f"""<?xml version="1.0"?>
<?xml-stylesheet type="text/xsl" href="{base}/style.xsl"?>
<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2"
       xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"
       xsi:schemaLocation="urn:oasis:names:tc:emergency:cap:1.2 {base}/cap.xsd">
  <identifier>HINT-1</identifier><sender>s</sender><sent>2025-07-01T08:00:00+08:00</sent>
  <status>Actual</status><msgType>Alert</msgType><scope>Public</scope>
</alert>""".encode()
        result = parse("cap", hinted)
        assert [a.external_id for a in result.alerts] == ["HINT-1"]
        included = f"""<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2">
  <x xmlns:xi="http://www.w3.org/2001/XInclude"><xi:include href="{base}/inc.xml" parse="text"/></x>
  <identifier>XI-1</identifier><sender>s</sender><sent>2025-07-01T08:00:00+08:00</sent>
  <status>Actual</status><msgType>Alert</msgType><scope>Public</scope>
</alert>""".encode()
        rejected = parse("cap", included)
        assert not rejected.alerts
        assert "CAP schema violation" in rejected.rejections[0].reason
        assert seen == []
