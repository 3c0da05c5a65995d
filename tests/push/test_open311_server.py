"""gridcc as an Open311 GeoReport v2 server (issue #12, item 1), on the real app with a real ``rq
worker``: a posted request goes through the workers' parse, placement, quarantine and upsert and
answers with the case's id; a key reads back only what it filed or its department's cases; every bad
request gets the standard's error document with the right status, and nothing stored but its quarantine
row (the conformance list of the issue, row by row: ``test_push_refusals.py``)."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import defusedxml.ElementTree as ET

from data.models import Case, Feed
from layers import versions
from tests.workers.test_poll_support import GRID_A, POINT_A
from workers.feeds import open311 as open311_parser

from .conftest import PushWorld

CONFORMANCE = Path(__file__).resolve().parents[2].parent / "shared" / "conformance" / "open311"


def form(token: str | None, **fields: Any) -> dict[str, Any]:
    data: dict[str, Any] = {"service_code": "city.clutter", "lat": POINT_A[1], "long": POINT_A[0]}
    data.update(description="楼道堆放杂物", first_name="三", last_name="张", phone="13812345678")
    if token is not None:
        data["api_key"] = token
    data.update(fields)
    return {k: v for k, v in data.items() if v is not None}


def post(w: PushWorld, fmt: str = "json", **fields: Any) -> Any:
    token = fields.pop("token", w.tokens["app"])
    return w.client.post(f"/open311/v2/requests.{fmt}", data=form(token, **fields))


def error_of(response: Any) -> tuple[int, str]:
    if response.mimetype == "text/xml":
        root = ET.fromstring(response.data)
        assert root.tag == "errors"
        error = root.find("error")
        return int(error.findtext("code")), error.findtext("description")
    doc = response.get_json()
    assert isinstance(doc, list) and len(doc) == 1 and set(doc[0]) == {"code", "description"}, doc
    return doc[0]["code"], doc[0]["description"]


def test_a_posted_request_is_stored_placed_and_read_back(push_world: PushWorld) -> None:
    w = push_world
    before = versions.read(w.runtime.redis)["cases"]
    script = "<script>alert('x')</script> 楼道堆放杂物"
    response = post(
        w, description=script, media_url="https://example.org/p.jpg", email="zhang.san@example.org"
    )
    assert response.status_code == 200, response.data
    answer = response.get_json()
    rid = answer[0]["service_request_id"]
    with w.runtime.session_factory() as session:
        case = session.get(Case, int(rid))
        assert case is not None
        assert case.description == script  # kept as text, verbatim
        assert case.grid_code == GRID_A and case.placement == "point"
        assert case.reporter_name == "张 三" and case.reporter_phone == "13812345678"
        assert (
            case.reporter_email == "zhang.san@example.org" and case.media_url == "https://example.org/p.jpg"
        )
        assert case.category_code == "city.clutter" and case.status == "reported"
        feed = session.get(Feed, "hotline")
        assert feed is not None and feed.cursor is None and feed.etag is None  # the poll's cursor untouched
    assert versions.read(w.runtime.redis)["cases"] != before
    got = w.client.get(f"/open311/v2/requests/{rid}.json", headers={"X-Api-Key": w.tokens["app"]})
    assert got.status_code == 200
    row = got.get_json()[0]
    assert row["service_request_id"] == rid and row["status"] == "open" and row["description"] == script
    assert row["media_url"] == "https://example.org/p.jpg"
    assert "13812345678" not in got.get_data(as_text=True)  # the reporter never goes back out
    assert "zhang.san" not in got.get_data(as_text=True)
    xml = w.client.get(f"/open311/v2/requests/{rid}.xml?api_key={w.tokens['app']}")
    assert xml.status_code == 200 and xml.mimetype == "text/xml"
    assert b"<script>" not in xml.data and b"&lt;script&gt;" in xml.data
    # gridcc's own poll parser reads gridcc's answer as it reads any Open311 server's
    parsed = open311_parser.parse(xml.data)
    assert [c.description for c in parsed.cases] == [script] and not parsed.rejections


def test_the_xml_answer_has_every_field_of_the_standards_example(push_world: PushWorld) -> None:
    w = push_world
    rid = post(w, fmt="xml").data
    root = ET.fromstring(rid)
    assert root.tag == "service_requests" and root.find("request/service_request_id").text.isdigit()
    listed = w.client.get("/open311/v2/requests.xml", headers={"X-Api-Key": w.tokens["app"]})
    ours = ET.fromstring(listed.data).find("request")
    example = ET.parse(CONFORMANCE / "service_requests.xml").getroot().find("request")
    assert [e.tag for e in ours] == [e.tag for e in example]


def test_services_and_definitions_are_the_catalogue(push_world: PushWorld) -> None:
    w = push_world
    services = w.client.get("/open311/v2/services.json").get_json()
    codes = {s["service_code"] for s in services}
    assert "city.clutter" in codes and "city" not in codes  # leaf categories only
    assert all(set(s) >= {"service_code", "service_name", "metadata", "type"} for s in services)
    xml = ET.fromstring(w.client.get("/open311/v2/services.xml").data)
    assert {e.findtext("service_code") for e in xml.findall("service")} == codes
    definition = w.client.get("/open311/v2/services/city.clutter.json").get_json()
    assert definition["service_code"] == "city.clutter"
    assert definition["attributes"][0]["code"] == "grid_code"
    missing = w.client.get("/open311/v2/services/nope.xml")
    assert missing.status_code == 404 and error_of(missing)[0] == 404


def test_a_grid_code_or_an_address_places_a_request(push_world: PushWorld) -> None:
    w = push_world
    response = post(w, lat=None, long=None, **{"attribute[grid_code]": GRID_A})
    assert response.status_code == 200, response.data
    rid = int(response.get_json()[0]["service_request_id"])
    with w.runtime.session_factory() as session:
        case = session.get(Case, rid)
        assert case is not None and case.placement == "code" and case.grid_code == GRID_A


def test_bad_requests_get_the_standards_errors_and_store_nothing_but_their_rows(
    push_world: PushWorld,
) -> None:
    w = push_world
    cases = [
        (dict(token=None), 403, "api_key"),
        (dict(token="gcp_forged-key-of-nobody"), 403, "api_key"),
        (dict(token=w.tokens["revoked"]), 403, "revoked"),
        (dict(service_code=None), 400, "service_code is required"),
        (dict(lat=None, long=None), 400, "location is required"),
        (dict(lat="north", long="106"), 400, "decimal degrees"),
        (dict(description="x" * 4001), 400, "4000"),
        (dict(media_url="javascript:alert(1)"), 400, "media_url"),
        (dict(email="not an address"), 400, "email"),
        (dict(description="长" * 1_000_000), 413, "larger"),
    ]
    for fields, status, words in cases:
        for fmt in ("json", "xml"):
            response = post(w, fmt=fmt, **fields)
            assert response.status_code == status, (fields.keys(), fmt, response.data[:300])
            code, description = error_of(response)
            assert code == status and words in description, (fields.keys(), description)
    assert w.counts()[:2] == (0, 0)
    # one row per body: the JSON and XML posts of a case send the same body, and so do the forged and the
    # revoked key once their tokens are masked
    raws = [q.raw for q in w.quarantine()]
    assert len(raws) == len(cases) - 1
    assert not any(w.tokens["revoked"] in r or "gcp_forged" in r for r in raws)


def test_a_1mb_description_with_the_key_in_the_header_is_refused_by_its_size(push_world: PushWorld) -> None:
    w = push_world
    response = w.client.post(
        "/open311/v2/requests.json",
        data=form(None, description="x" * 1_000_000),
        headers={"X-Api-Key": w.tokens["app"]},
    )
    assert response.status_code == 413
    assert error_of(response) == (413, "the body is larger than this key's limit of 262144 bytes")
    assert w.counts() == (0, 0, 1)  # its quarantine row (the first 4,096 characters)
    assert w.runtime.redis.hget("gridcc:push:counts", "app|size") == b"1"


def test_unknown_service_or_a_place_outside_the_district_is_quarantined_with_its_reason(
    push_world: PushWorld,
) -> None:
    w = push_world
    unknown = post(w, service_code="no.such.service")
    assert unknown.status_code == 400 and "no.such.service" in error_of(unknown)[1]
    outside = post(w, lat=39.9, long=116.4)  # Beijing: in China, in no grid of this district
    assert outside.status_code == 400 and "outside the district" in error_of(outside)[1]
    abroad = post(w, fmt="xml", lat=48.85, long=2.35)  # Paris
    assert abroad.status_code == 400 and "outside the district" in error_of(abroad)[1]
    assert w.counts()[:2] == (0, 0)
    reasons = [q.reason for q in w.quarantine()]
    assert len(reasons) == 3 and "not one of this server's services" in reasons[0]
    # the good request behind the poison ones goes in
    good = post(w)
    assert good.status_code == 200 and w.counts()[0] == 1


def test_a_key_reads_only_what_it_filed_or_its_departments(push_world: PushWorld) -> None:
    w = push_world
    mine = post(w).get_json()[0]["service_request_id"]
    theirs = post(w, token=w.tokens["other_app"]).get_json()[0]["service_request_id"]
    hotline = post(w, token=w.tokens["hotline"]).get_json()[0]["service_request_id"]

    def ids(token: str) -> set[str]:
        got = w.client.get("/open311/v2/requests.json", headers={"X-Api-Key": token})
        assert got.status_code == 200
        return {r["service_request_id"] for r in got.get_json()}

    assert ids(w.tokens["app"]) == {mine}
    assert ids(w.tokens["other_app"]) == {theirs}
    assert ids(w.tokens["hotline"]) == {hotline}  # its own; the apps' cases are not its department's
    assert ids(w.tokens["police"]) == set()
    for token, rid in ((w.tokens["other_app"], mine), (w.tokens["police"], hotline), (w.tokens["app"], "1x")):
        forged = w.client.get(f"/open311/v2/requests/{rid}.json", headers={"X-Api-Key": token})
        assert forged.status_code == 404 and error_of(forged)[0] == 404
    listed = w.client.get(
        f"/open311/v2/requests.json?service_request_id={mine},{theirs}",
        headers={"X-Api-Key": w.tokens["app"]},
    )
    assert {r["service_request_id"] for r in listed.get_json()} == {mine}
    for query, expected in (
        ("status=open", {mine}),
        ("status=closed", set()),
        ("status=open,closed", {mine}),
    ):
        got = w.client.get(f"/open311/v2/requests.json?{query}", headers={"X-Api-Key": w.tokens["app"]})
        assert {r["service_request_id"] for r in got.get_json()} == expected, query
    bad = w.client.get("/open311/v2/requests.xml?status=lost", headers={"X-Api-Key": w.tokens["app"]})
    assert bad.status_code == 400 and error_of(bad)[0] == 400
    revoked = w.client.get("/open311/v2/requests.json", headers={"X-Api-Key": w.tokens["revoked"]})
    assert revoked.status_code == 403


def test_the_rate_limit_refuses_one_key_and_not_the_others(push_world: PushWorld) -> None:
    w = push_world
    # the limit is a fixed one-minute window: start early in a minute, so that a loaded machine's slow
    # posts do not straddle the turn (which would give the fourth a fresh allowance)
    left = 60 - time.time() % 60
    if left < 40:
        time.sleep(left + 0.2)
    statuses = [post(w, token=w.tokens["small"]).status_code for _ in range(5)]
    assert statuses == [200, 200, 200, 429, 429]
    assert post(w).status_code == 200  # another key is not slowed
    counts = w.runtime.redis.hgetall("gridcc:push:counts")
    assert counts[b"small|accepted"] == b"3" and counts[b"small|rate"] == b"2"


def test_a_json_body_is_read_and_an_xml_body_is_not(push_world: PushWorld) -> None:
    w = push_world
    body = json.dumps(form(w.tokens["app"]))
    ok = w.client.post("/open311/v2/requests.json", data=body, content_type="application/json")
    assert ok.status_code == 200, ok.data
    xxe = (
        '<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
        "<request><service_code>city.clutter</service_code><description>&x;</description></request>"
    )
    refused = w.client.post(
        "/open311/v2/requests.xml", data=xxe, content_type="text/xml", headers={"X-Api-Key": w.tokens["app"]}
    )
    assert refused.status_code == 400 and "form" in error_of(refused)[1]
    assert w.counts()[0] == 1
