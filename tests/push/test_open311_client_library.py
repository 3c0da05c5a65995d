"""gridcc's Open311 server read by an Open311 client library from PyPI: ``georeport`` (0.3.1, July
2025, the most recently released GeoReport v2 client there; ``open311`` 1.1 and ``three`` 0.8 have not
been released since 2011 and 2013). It reads the service list and definitions in JSON and XML, and
the requests a key filed when the library's HTTP calls carry the key. It has no call to POST a request
(a read-only client), so the posting goes through plain HTTP."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from georeport import GeoReport
from werkzeug.serving import make_server

from .conftest import PushWorld
from .test_open311_server import form


@pytest.fixture
def base(push_world: PushWorld) -> Iterator[str]:
    server = make_server("127.0.0.1", 0, push_world.server, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/open311/v2"
    finally:
        server.shutdown()


def test_georeport_reads_services_definitions_and_filed_requests(
    push_world: PushWorld, base: str, monkeypatch: Any
) -> None:
    w = push_world
    for fmt in ("json", "xml"):
        client = GeoReport(base, output_format=fmt)
        services = client.get_service_list()
        assert "city.clutter" in {s["service_code"] for s in services}
        definition = client.get_service_definition("city.clutter")
        attributes = definition["attributes"]
        attribute = attributes[0] if isinstance(attributes, list) else attributes["attribute"]
        assert attribute["code"] == "grid_code"
    posted = requests.post(f"{base}/requests.json", data=form(w.tokens["app"]), timeout=30)
    assert posted.status_code == 200, posted.text
    rid = posted.json()[0]["service_request_id"]
    # without a key, reading requests is refused with the standard's error document
    with pytest.raises(requests.HTTPError) as refused:
        GeoReport(base).get_service_requests()
    assert refused.value.response.status_code == 403
    assert refused.value.response.json()[0]["code"] == 403
    # the library sends no key of its own: give its HTTP calls the key's header
    real_get = requests.get
    monkeypatch.setattr(
        requests,
        "get",
        lambda url, **kw: real_get(url, headers={"X-Api-Key": w.tokens["app"]}, timeout=30, **kw),
    )
    for fmt in ("json", "xml"):
        client = GeoReport(base, output_format=fmt)
        listed = client.get_service_requests()
        rows = listed if isinstance(listed, list) else [listed]
        assert [r["service_request_id"] for r in rows] == [rid]
        one = client.get_service_request(rid)
        assert one["service_request_id"] == rid and one["status"] == "open"
