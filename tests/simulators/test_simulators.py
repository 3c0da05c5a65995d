"""The simulators over real HTTP: every protocol's output goes through the project's parsers; paging,
updated_after, POST, conditional GET, CAP warnings, sensor alarms, the fault modes, escaping."""

from __future__ import annotations

import json
import re
import socket
import urllib.parse
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine

from simulators import SPECS, SimulatorSet
from simulators.faults import parse_faults
from simulators.texts import XSS_DESCRIPTION
from tests.simulators.test_support import Env, environment, get, get_json, post
from workers.feeds.parsers import parse

OPEN311 = [s for s in SPECS if s.protocol == "open311"]
ID = re.compile(r"^[A-Z0-9]+-2026-\d{6}$")
XSS = "<img src=x onerror=alert(1)>"


@pytest.fixture
def env(engine: Engine, tmp_path: Path) -> Iterator[Env]:
    yield from environment(engine, tmp_path)


def in_district(lon: float, lat: float) -> bool:
    return 105.95 <= lon <= 106.15 and 29.80 <= lat <= 29.90


@pytest.mark.parametrize("fmt", ["xml", "json"])
def test_every_open311_department_parses_cleanly(env: Env, fmt: str) -> None:
    sims = env.sims
    for spec in OPEN311:
        total = sims.store.scalar("SELECT count(*) FROM request WHERE feed = ?", (spec.name,))  # type: ignore[union-attr]
        status, headers, body = get(f"{sims.urls[spec.name]}/requests.{fmt}?page_size=40")
        assert status == 200 and headers["Content-Type"].startswith(f"application/{fmt}")
        result = parse("open311", body)
        assert result.rejections == [] and result.feed_error is None, (spec.name, result.rejections[:2])
        assert len(result.cases) == min(40, total) and total > 10, spec.name
        for case in result.cases:
            assert ID.match(case.external_id) and case.external_id.startswith(spec.prefix + "-")
            assert case.status in (
                "reported",
                "accepted",
                "assigned",
                "in_progress",
                "resolved",
                "closed",
                "returned",
            )
            if spec.categories:
                assert case.category_code in spec.categories
            assert case.category_name and case.description
            assert case.requested_at.tzinfo is not None and case.updated_at is not None
            if case.lon is not None:
                assert in_district(case.lon, case.lat)  # type: ignore[arg-type]
            if case.grid_code:
                assert case.grid_code.startswith("500151") and len(case.grid_code) == 15


def test_records_carry_extensions_and_a_placement_mix(env: Env) -> None:
    sims = env.sims
    cases = []
    for name in ("hotline12345", "grid_patrol"):
        for page in (1, 2):
            body = get(f"{sims.urls[name]}/requests.xml?page_size=500&page={page}")[2]
            cases += parse("open311", body).cases
    assert len(cases) > 800
    closed = [c for c in cases if c.status == "closed"]
    assert closed and all(c.satisfaction in ("satisfied", "basic", "unsatisfied") for c in closed)
    assert {c.priority for c in cases} == {"urgent", "normal", "complex"}
    with_grid = sum(bool(c.grid_code) for c in cases)
    point_only = sum(c.lon is not None and not c.grid_code and not c.address for c in cases)
    address_only = sum(c.lon is None and not c.grid_code and bool(c.address) for c in cases)
    assert 0.65 < with_grid / len(cases) < 0.85
    assert point_only > 0 and address_only > 0
    # addresses are made of the district's real street and community names
    assert any(c.address.startswith("铜梁区巴川街道东方社区") for c in cases)
    assert any("&" in c.description or "<" in c.description or "“" in c.description for c in cases)


def test_paging_walks_everything_once_in_update_order(env: Env) -> None:
    sims = env.sims
    url = sims.urls["police"]
    total = sims.store.scalar("SELECT count(*) FROM request WHERE feed = 'police'")  # type: ignore[union-attr]
    seen: list[tuple[str, str]] = []
    page = 1
    while True:
        items = get_json(f"{url}/requests.json?page_size=10&page={page}")
        assert isinstance(items, list)
        seen += [(i["updated_datetime"], i["service_request_id"]) for i in items]
        if len(items) < 10:
            break
        page += 1
    assert len(seen) == total > 30 and page > 3
    assert len({rid for _, rid in seen}) == total
    # the police system reports in UTC ("Z"): ISO-8601 strings of one offset sort in time order
    assert all(t.endswith("Z") for t, _ in seen)
    assert seen == sorted(seen)


def test_updated_after_returns_only_newer_changes(env: Env) -> None:
    sims = env.sims
    clock = env.clock
    url = sims.urls["hotline12345"]
    everything = parse("open311", get(f"{url}/requests.xml?page_size=1000&page=1")[2]).cases
    cut = everything[600].updated_at
    assert cut is not None
    q = urllib.parse.urlencode({"updated_after": cut.isoformat(), "page_size": 1000})
    newer = parse("open311", get(f"{url}/requests.xml?{q}")[2]).cases
    assert newer and all(c.updated_at is not None and c.updated_at >= cut for c in newer)
    assert everything[600].external_id in {c.external_id for c in newer}
    assert everything[599].updated_at < cut or everything[599].external_id in {c.external_id for c in newer}  # type: ignore[operator]
    # after time passes, the cases that changed carry the new time and come back
    clock.now += timedelta(hours=6)
    counts = sims.step(clock.now)
    changed = counts["changed"] + counts["new"]
    q = urllib.parse.urlencode({"updated_after": clock.now.isoformat()})
    moved = get_json(f"{sims.urls['hotline12345']}/requests.json?{q}&page_size=1000")
    assert isinstance(moved, list) and 0 < len(moved) <= changed


def test_a_posted_case_is_visible_at_once_and_placed(env: Env) -> None:
    sims = env.sims
    clock = env.clock
    district = env.district
    url = sims.urls["hotline12345"]
    form = {
        "service_code": "city.manhole",
        "lat": "29.83",
        "long": "106.12",
        "address_string": "铜梁区土桥镇高桥村 村道旁",
        "description": "井盖缺失 <b>危险</b> & 请尽快处理",
        "first_name": "张",
        "phone": "13800001111",
    }
    status, body = post(
        f"{url}/requests.json", urllib.parse.urlencode(form).encode(), "application/x-www-form-urlencoded"
    )
    assert status == 201, body
    answer = json.loads(body)
    rid = answer[0]["service_request_id"]
    assert rid.startswith("TL12345-2026-") and answer[0]["service_notice"]
    q = urllib.parse.urlencode({"updated_after": clock.now.isoformat()})
    for fmt in ("xml", "json"):
        cases = parse("open311", get(f"{url}/requests.{fmt}?{q}")[2]).cases
        mine = [c for c in cases if c.external_id == rid]
        assert len(mine) == 1
        case = mine[0]
        assert case.status == "reported" and case.category_code == "city.manhole"
        assert case.description == form["description"]
        assert case.grid_code == "500151101201001" == district.leaf_at(106.12, 29.83).code  # type: ignore[union-attr]
        assert (case.lon, case.lat) == (106.12, 29.83)
        assert case.reporter_phone is None  # personal data is not published
    # a JSON body works too; a point outside the district is taken but not placed, and said so
    status, body = post(
        f"{url}/requests.json",
        json.dumps({"service_code": "public_order", "lat": 30.5, "long": 107.0, "description": "x"}).encode(),
        "application/json",
    )
    assert status == 201
    answer = json.loads(body)
    assert "不在铜梁区范围内" in answer[0]["service_notice"]
    outside = get_json(f"{url}/requests/{answer[0]['service_request_id']}.json")
    assert isinstance(outside, list) and "grid_code" not in outside[0]


@pytest.mark.parametrize(
    ("form", "message"),
    [
        ({"service_code": "no.such", "lat": "29.83", "long": "106.1"}, "service_code not found"),
        ({"lat": "29.83", "long": "106.1"}, "service_code is required"),
        ({"service_code": "city.manhole"}, "a location is required"),
        ({"service_code": "city.manhole", "lat": "north", "long": "106.1"}, "decimal degrees"),
    ],
)
def test_a_bad_post_gets_an_open311_error(env: Env, form: dict[str, str], message: str) -> None:
    sims = env.sims
    before = sims.store.scalar("SELECT count(*) FROM request")  # type: ignore[union-attr]
    for fmt in ("json", "xml"):
        status, body = post(
            f"{sims.urls['hotline12345']}/requests.{fmt}",
            urllib.parse.urlencode(form).encode(),
            "application/x-www-form-urlencoded",
        )
        assert status == 400
        result = parse("open311", body)
        assert result.feed_error is not None and message in result.feed_error
    assert sims.store.scalar("SELECT count(*) FROM request") == before  # type: ignore[union-attr]


def test_only_the_hotline_takes_posts(env: Env) -> None:
    sims = env.sims
    status, body = post(
        f"{sims.urls['police']}/requests.json",
        b"service_code=public_order",
        "application/x-www-form-urlencoded",
    )
    assert status == 405 and b"does not take requests" in body


def test_etag_and_last_modified_give_304_until_something_changes(env: Env) -> None:
    sims = env.sims
    clock = env.clock
    url = f"{sims.urls['ecology']}/requests.xml?page_size=20"
    status, headers, body = get(url)
    assert status == 200 and headers["ETag"] and headers["Last-Modified"]
    assert get(url, {"If-None-Match": headers["ETag"]})[0] == 304
    assert get(url, {"If-Modified-Since": headers["Last-Modified"]})[0] == 304
    assert get(url, {"If-None-Match": '"something-else"'})[0] == 200
    assert sims.simulation is not None
    ecology = next(s for s in SPECS if s.name == "ecology")
    clock.now += timedelta(seconds=5)
    sims.simulation.book.new_case(clock.now, spec=ecology)
    # within the second of the change there is no Last-Modified to trust: ETag only
    status, headers2, _body = get(f"{sims.urls['ecology']}/requests.xml?page_size=1000")
    assert "Last-Modified" not in headers2
    assert get(url, {"If-Modified-Since": headers["Last-Modified"]})[0] == 200
    clock.now += timedelta(seconds=2)
    status, headers3, _body = get(f"{sims.urls['ecology']}/requests.xml?page_size=1000")
    assert headers3["ETag"] == headers2["ETag"] and headers3["Last-Modified"] != headers["Last-Modified"]
    assert get(url, {"If-Modified-Since": headers["Last-Modified"]})[0] == 200
    assert get(url, {"If-Modified-Since": headers3["Last-Modified"]})[0] == 304
    assert (
        get(f"{sims.urls['ecology']}/requests.xml?page_size=1000", {"If-None-Match": headers3["ETag"]})[0]
        == 304
    )


def test_services_list(env: Env) -> None:
    sims = env.sims
    services = get_json(f"{sims.urls['market_regulation']}/services.json")
    assert services == [
        {
            "service_code": "food_drug",
            "service_name": "食品药品",
            "description": "食品药品（Food and drugs）",
            "metadata": False,
            "type": "realtime",
            "keywords": "food and drugs",
            "group": "food_drug",
        }
    ]
    status, _h, body = get(f"{sims.urls['hotline12345']}/services.xml")
    assert status == 200 and body.count(b"<service>") == 22


def test_the_script_description_is_escaped_in_xml_and_verbatim_in_json(env: Env) -> None:
    sims = env.sims
    rid = sims.store.get_meta("xss_case")  # type: ignore[union-attr]
    assert rid and rid.startswith("TL12345-")
    url = f"{sims.urls['hotline12345']}/requests/{rid}"
    xml = get(url + ".xml")[2].decode()
    assert "&lt;img src=x onerror=alert(1)&gt;" in xml and XSS not in xml
    data = get_json(url + ".json")
    assert isinstance(data, list) and XSS in data[0]["description"]
    assert parse("open311", xml.encode()).cases[0].description == XSS_DESCRIPTION
    # exactly once in the whole feed
    assert sims.store.scalar("SELECT count(*) FROM request WHERE description LIKE '%onerror%'") == 1  # type: ignore[union-attr]


def test_weather_warnings_are_valid_cap_with_polygons_updates_and_cancels(env: Env) -> None:
    sims = env.sims
    clock = env.clock
    clock.now += timedelta(seconds=5)
    assert sims.step(clock.now)["weather"] == 1  # one active warning soon after start
    office = sims.simulation.office  # type: ignore[union-attr]
    assert len(office.active(clock.now)) == 1
    first = office.issue(clock.now, "暴雨", "Moderate", circle=False)
    circle = office.issue(clock.now, "大风", "Severe", circle=True)
    update = office.update(clock.now + timedelta(minutes=10), first, "Extreme")
    cancel = office.cancel(clock.now + timedelta(minutes=20), first)
    index = get(f"{sims.urls['weather']}/cap/index.atom")
    assert index[0] == 200
    links = parse("cap", index[2]).index_links
    assert len(links) == 5 and links[0].endswith(f"/{cancel}.xml")  # newest first
    records = {}
    for link in links:
        status, headers, body = get(link)
        assert status == 200 and "cap+xml" in headers["Content-Type"]
        result = parse("cap", body)  # validated against the OASIS CAP 1.2 schema
        assert result.rejections == [], result.rejections
        (record,) = result.alerts
        records[record.external_id] = record
    alert, upd, can = records[first], records[update], records[cancel]
    assert alert.msg_type == "Alert" and alert.kind == "weather" and alert.event == "暴雨"
    assert alert.headline.startswith("铜梁区气象台发布")
    assert alert.geometry is not None and alert.geometry["type"] == "Polygon"
    for lon, lat in alert.geometry["coordinates"][0]:
        assert in_district(lon, lat)  # lat,lon in CAP became lon,lat in GeoJSON
    assert (
        upd.msg_type == "Update"
        and upd.references == (first,)
        and upd.severity == "Extreme"
        and upd.colour == "red"
    )
    assert can.msg_type == "Cancel" and set(can.references) == {first, update}
    circ = records[circle]
    assert circ.geometry is not None and circ.geometry["type"] == "Polygon"  # the parser's 64-gon
    ring = circ.geometry["coordinates"][0]
    centre = (sum(p[0] for p in ring[:-1]) / (len(ring) - 1), sum(p[1] for p in ring[:-1]) / (len(ring) - 1))
    assert in_district(*centre)
    assert circ.severity == "Severe" and circ.colour == "orange" and "大风橙色" in circ.headline


def test_sensor_alarms_of_every_family_parse_and_clear(env: Env) -> None:
    sims = env.sims
    clock = env.clock
    board = sims.simulation.board  # type: ignore[union-attr]
    ids = [
        board.raise_alarm(clock.now, family) for family in ("fence", "noise", "landslide", "smoke", "thermal")
    ]
    body = get(f"{sims.urls['sensors']}/alarms.json")[2]
    result = parse("sensor", body)
    assert result.rejections == [], result.rejections
    assert sorted(a.kind for a in result.alerts) == ["fence", "landslide", "noise", "smoke", "thermal"]
    assert all(
        a.msg_type == "Alert" and a.geometry and in_district(*a.geometry["coordinates"])
        for a in result.alerts
    )
    # landslides happen in the towns (土桥镇), noise in the urban streets (巴川街道)
    docs = {d["family"]: d for d in json.loads(body)["alarms"]}
    assert docs["landslide"]["grid_code"].startswith("500151101")
    assert docs["noise"]["grid_code"].startswith("500151001")
    clock.now += timedelta(hours=1)
    assert sims.step(clock.now)["cleared"] >= 5
    since = urllib.parse.urlencode({"since": (clock.now - timedelta(seconds=1)).isoformat()})
    cleared = parse("sensor", get(f"{sims.urls['sensors']}/alarms.json?{since}")[2])
    cancels = {a.references[0] for a in cleared.alerts if a.msg_type == "Cancel"}
    assert set(ids) <= cancels


def test_health_and_fault_control(env: Env) -> None:
    sims = env.sims
    for name, url in sims.urls.items():
        assert get_json(f"{url}/_health") == {"ok": True, "feed": name}
    url = sims.urls["city_management"]
    status, body = post(f"{url}/_control/faults", b'{"mode": "bogus"}', "application/json")
    assert status == 400
    status, body = post(f"{url}/_control/faults", b'{"mode": "error500"}', "application/json")
    assert status == 200 and json.loads(body)["mode"] == "error500"
    assert get(f"{url}/requests.xml")[0] == 500
    assert get(f"{url}/_health")[0] == 200  # health is never faulted
    assert get(f"{sims.urls['housing']}/requests.xml")[0] == 200  # one feed's fault is its own
    post(f"{url}/_control/faults", b'{"mode": "none"}', "application/json")
    assert get(f"{url}/requests.xml")[0] == 200


def _ids_and_times(body: bytes) -> list[tuple[str, str]]:
    return [(i["service_request_id"], i["updated_datetime"]) for i in json.loads(body)]


def test_fault_modes_do_what_they_say(env: Env) -> None:
    sims = env.sims
    url = f"{sims.urls['grid_patrol']}/requests.json?page_size=100"
    clean = _ids_and_times(get(url)[2])

    sims.set_fault("grid_patrol", "repeat")
    repeated = _ids_and_times(get(url)[2])
    assert len(repeated) == 2 * len(clean) and set(repeated) == set(clean)

    sims.set_fault("grid_patrol", "out_of_order")
    shuffled = _ids_and_times(get(url)[2])
    assert {rid for rid, _ in shuffled} == {rid for rid, _ in clean}
    assert shuffled != sorted(shuffled, key=lambda x: x[1])
    latest = dict(clean)
    stale = [(rid, t) for rid, t in shuffled if t < latest[rid]]
    assert stale  # older versions of records, served after the newer ones
    first_seen = {}
    for i, (rid, t) in enumerate(shuffled):
        first_seen.setdefault(rid, (i, t))
    assert all(first_seen[rid][1] == latest[rid] for rid, _ in stale)
    result = parse("open311", get(url)[2])
    assert result.rejections == []

    sims.set_fault("grid_patrol", "malformed")
    status, _h, body = get(url)
    assert status == 200
    bad = parse("open311", body)
    assert bad.cases == [] and len(bad.rejections) == 1 and bad.rejections[0].external_id is None
    bad_cap = parse("cap", _faulted(sims, "weather", "/cap/index.atom", "malformed"))
    assert bad_cap.rejections and not bad_cap.index_links

    sims.set_fault("grid_patrol", "slow")
    with pytest.raises((TimeoutError, socket.timeout, OSError)):
        get(url, timeout=0.5)

    sims.set_fault("grid_patrol", "error500")
    assert get(url)[0] == 500

    sims.set_fault("grid_patrol", "none")
    assert _ids_and_times(get(url)[2]) == clean


def _faulted(sims: SimulatorSet, name: str, path: str, mode: str) -> bytes:
    sims.set_fault(name, mode)
    try:
        return get(sims.urls[name] + path)[2]
    finally:
        sims.set_fault(name, "none")


def test_random_faults_mix_good_and_bad_answers(env: Env) -> None:
    sims = env.sims
    sims.set_fault("justice", "random")
    sims.apps["justice"].slow_seconds = 0.01
    # An answer is a 500 with probability P_RANDOM_FAULT / len(FAULTS) (7 %), so 60 answers hold none
    # about once in 80 runs: ask at least 60 times and on until a 500 has come, up to 400 times (the
    # chance of none in 400 is 2.5e-13).
    statuses: list[int] = []
    while len(statuses) < 60 or (500 not in statuses and len(statuses) < 400):
        statuses.append(get(f"{sims.urls['justice']}/requests.json?page_size=5")[0])
    assert 500 in statuses, statuses
    # most answers are 200s: the clean ones (65 %) and the faults that keep the status (slow, repeat, ...)
    assert statuses.count(200) > len(statuses) // 2, statuses


def test_parse_faults_option() -> None:
    names = [s.name for s in SPECS]
    assert parse_faults(None, names) == {}
    assert set(parse_faults("", names).values()) == {"random"} and len(parse_faults("", names)) == len(names)
    assert parse_faults("hotline12345=error500, weather=malformed", names) == {
        "hotline12345": "error500",
        "weather": "malformed",
    }
    assert parse_faults("all=slow", names) == dict.fromkeys(names, "slow")
    with pytest.raises(ValueError, match="unknown fault mode"):
        parse_faults("police=explode", names)
    with pytest.raises(ValueError, match="unknown simulator"):
        parse_faults("nobody=slow", names)
    with pytest.raises(ValueError, match="name=mode"):
        parse_faults("slow", names)
