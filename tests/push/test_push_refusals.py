"""Issue #12's conformance list, on the real app with a real ``rq worker``: a POST with a bad key, an
unknown service code, a location outside the district, a 1 MB description, or an entity attack in XML
gets the standard's error document with a clear reason (JSON and XML), nothing stored but exactly one
quarantine row (the web tier's, or the workers' for what they refused), its raw text without the key;
a good request right behind it is stored. A script tag is stored as text and never runs. Nobody can
fill the quarantine: rows per client address and minute are capped, and the same body is one row."""

from __future__ import annotations

import json
import time
from itertools import count
from typing import Any

import pytest
from sqlalchemy import select

from data.models import Case, Quarantine
from data.push import refusals
from data.push.limits import RATE_KEY
from data.push.refusals import PUSH_FEED
from tests.workers.test_poll_support import POINT_A

from .conftest import PushWorld
from .test_open311_server import error_of, form

XXE = (
    '<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
    "<service_request><service_code>city.clutter</service_code><description>&x;</description>"
    "<lat>29.84</lat><long>106.05</long></service_request>"
)
BILLION = (
    '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;">'
    '<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;">]><service_request><description>&lol3;</description>'
    "</service_request>"
)
_addresses = count(1)


def address() -> dict[str, str]:
    """A client address of its own for each request (the per-address cap is tested on its own)."""
    n = next(_addresses)
    return {"REMOTE_ADDR": f"127.0.{n // 250}.{n % 250 + 1}"}


def rows(w: PushWorld) -> list[Quarantine]:
    with w.runtime.session_factory() as session:
        return list(session.scalars(select(Quarantine).order_by(Quarantine.id)))


def send(w: PushWorld, fmt: str, how: str, tag: str, token: str) -> Any:
    """One bad request of kind ``how`` (``tag`` makes its body its own)."""
    url = f"/open311/v2/requests.{fmt}"
    env = address()
    if how == "bad key":
        return w.client.post(url, data=form("gcp_forged-key-of-nobody", device_id=tag), environ_base=env)
    if how == "bad key in the header, JSON body":
        body = json.dumps(form(None, device_id=tag))
        return w.client.post(
            url,
            data=body,
            content_type="application/json",
            headers={"X-Api-Key": "gcp_nobody"},
            environ_base=env,
        )
    if how == "unknown service code":
        return w.client.post(url, data=form(token, service_code=f"no.such.{tag}"), environ_base=env)
    if how == "outside the district":
        return w.client.post(url, data=form(token, lat=39.9, long=116.4, device_id=tag), environ_base=env)
    if how == "1 MB description":
        return w.client.post(
            url, data=form(token, description="x" * 1_000_000, device_id=tag), environ_base=env
        )
    if how == "1 MB description, key in the header":
        return w.client.post(
            url, data=form(None, description="长" * 350_000, device_id=tag), headers={"X-Api-Key": token},
            environ_base=env,
        )  # fmt: skip
    if how in ("XML entity attack", "XML billion laughs"):
        body = (XXE if how == "XML entity attack" else BILLION).replace(
            "<service_request>", f"<!--{tag}--><service_request>"
        )
        return w.client.post(
            url, data=body, content_type="text/xml", headers={"X-Api-Key": token}, environ_base=env
        )
    raise AssertionError(how)


# how → (status, words in the error, the quarantine row's feed, words in its reason)
CASES = {
    "bad key": (403, "api_key is missing, unknown or revoked", PUSH_FEED, "api_key"),
    "bad key in the header, JSON body": (403, "api_key is missing, unknown or revoked", PUSH_FEED, "api_key"),
    "unknown service code": (400, "is not one of this server's services", "hotline", "service_code"),
    "outside the district": (400, "outside the district", "hotline", "outside the district"),
    "1 MB description": (413, "this key's limit of 262144 bytes", "hotline", "262144"),
    "1 MB description, key in the header": (413, "this key's limit of 262144 bytes", "hotline", "262144"),
    "XML entity attack": (400, "form fields", "hotline", "form fields"),
    "XML billion laughs": (400, "form fields", "hotline", "form fields"),
}


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_each_bad_request_gets_the_standards_error_and_exactly_its_quarantine_row(
    push_world: PushWorld, fmt: str
) -> None:
    w = push_world
    token = w.tokens["app"]
    for i, (how, (status, words, feed, reason)) in enumerate(CASES.items()):
        cases_before, _, _ = w.counts()
        before = {q.id for q in rows(w)}
        response = send(w, fmt, how, f"{fmt}-{i}", token)
        assert response.status_code == status, (how, response.data[:300])
        assert response.mimetype == ("text/xml" if fmt == "xml" else "application/json"), how
        code, description = error_of(response)
        assert code == status and words in description, (how, description)
        assert w.counts()[0] == cases_before, how  # nothing stored
        new = [q for q in rows(w) if q.id not in before]
        assert len(new) == 1, (how, [(q.feed_name, q.reason) for q in new])
        row = new[0]
        assert row.feed_name == feed and reason in row.reason, (how, row.feed_name, row.reason)
        assert token not in row.raw and "gcp_forged" not in row.raw and len(row.raw) <= refusals.RAW_CHARS, (
            how
        )
        assert "root:" not in row.raw, how  # an entity is never expanded: the document is kept as text
        # the good request right behind the bad one goes in
        good = w.client.post(f"/open311/v2/requests.{fmt}", data=form(token), environ_base=address())
        assert good.status_code == 200, (how, good.data[:300])
        assert w.counts()[0] == cases_before + 1, how
    assert w.counts()[1] == 0


def test_the_1mb_body_is_kept_truncated_with_its_key_masked(push_world: PushWorld) -> None:
    w = push_world
    big = w.client.post(
        "/open311/v2/requests.json",
        data={"api_key": w.tokens["app"], **form(None, description="长" * 1_000_000)},
        environ_base=address(),
    )  # larger than any key's limit: refused before the key is known
    assert big.status_code == 413 and "1048576" in error_of(big)[1]
    (row,) = rows(w)
    assert row.feed_name == PUSH_FEED and len(row.raw) <= refusals.RAW_CHARS
    assert w.tokens["app"] not in row.raw and w.tokens["app"][4:12] not in row.raw
    assert "api_key" in row.raw  # the field's name is kept, its value masked


def test_a_script_tag_is_stored_as_text_and_sent_back_escaped(push_world: PushWorld) -> None:
    w = push_world
    script = "<script>alert(document.cookie)</script><img src=x onerror=alert(1)>"
    for fmt in ("json", "xml"):
        response = w.client.post(
            f"/open311/v2/requests.{fmt}", data=form(w.tokens["app"], description=script)
        )
        assert response.status_code == 200, response.data
    with w.runtime.session_factory() as session:
        stored = session.scalars(select(Case.description)).all()
    assert stored == [script, script]  # verbatim: text, not markup (the case page renders it as text:
    # tests/dashboard/test_safety.py and tests/browser/test_safety.py)
    listed = w.client.get("/open311/v2/requests.xml", headers={"X-Api-Key": w.tokens["app"]})
    assert b"<script>" not in listed.data and b"&lt;script&gt;" in listed.data
    assert rows(w) == []


def test_the_same_bad_body_is_one_row(push_world: PushWorld) -> None:
    w = push_world
    body = form("gcp_forged-key-of-nobody", description="同一个请求")
    for _ in range(3):
        assert (
            w.client.post("/open311/v2/requests.json", data=body, environ_base=address()).status_code == 403
        )
    # another unknown key with the same body: the tokens are masked, so it is the same row
    other = form("gcp_another-forged-key", description="同一个请求")
    assert w.client.post("/open311/v2/requests.xml", data=other, environ_base=address()).status_code == 403
    assert len(rows(w)) == 1


def test_an_unknown_key_cannot_fill_the_quarantine(push_world: PushWorld) -> None:
    w = push_world
    one = {"REMOTE_ADDR": "127.0.9.9"}
    for i in range(refusals.PER_ADDRESS + 15):
        body = form("gcp_flood", description=f"flood {i}")
        assert w.client.post("/open311/v2/requests.json", data=body, environ_base=one).status_code == 403
    assert len(rows(w)) == refusals.PER_ADDRESS  # one address: capped per minute
    # many addresses: all unknown keys together are capped too
    for i in range(refusals.UNKNOWN_PER_MINUTE + 10):
        env = {"REMOTE_ADDR": f"127.1.{i // 200}.{i % 200 + 1}"}
        body = form("gcp_flood", description=f"spread {i}")
        assert w.client.post("/open311/v2/requests.json", data=body, environ_base=env).status_code == 403
    assert len(rows(w)) == refusals.UNKNOWN_PER_MINUTE
    assert int(w.runtime.redis.get(refusals.DROPPED_KEY) or 0) == 15 + 10 + refusals.PER_ADDRESS
    # a known key's refusals from a fresh address are still kept
    known = w.client.post(
        "/open311/v2/requests.json", data=form(w.tokens["app"], service_code=""), environ_base=address()
    )
    assert known.status_code == 400 and len(rows(w)) == refusals.UNKNOWN_PER_MINUTE + 1


def test_a_rate_limited_push_leaves_no_row(push_world: PushWorld) -> None:
    w = push_world
    window = int(time.time() // 60)
    for minute in (window, window + 1):  # this minute's and the next one's allowance used up already
        w.runtime.redis.set(RATE_KEY.format(name="small", window=minute), 3, ex=180)
    statuses = [
        w.client.post(
            "/open311/v2/requests.json",
            data=form(w.tokens["small"], description=f"第{i}件"),
            environ_base=address(),
        ).status_code
        for i in range(5)
    ]
    assert statuses == [429] * 5
    assert rows(w) == [] and w.counts()[0] == 0


def test_document_pushes_refused_at_the_gate_leave_their_row(push_world: PushWorld) -> None:
    w = push_world
    alarm = json.dumps(
        {"alarms": [{"alarm_id": "A-1", "family": "fence", "lon": POINT_A[0], "lat": POINT_A[1]}]}
    )
    cases = (
        ({"X-Api-Key": "gcp_nobody"}, alarm, 403, PUSH_FEED),  # unknown key
        ({"X-Api-Key": w.tokens["weather"]}, alarm + " ", 403, "weather"),  # a CAP key pushing sensor alarms
        ({"X-Api-Key": w.tokens["sensors"]}, json.dumps({"pad": "x" * 300_000}), 413, "sensors"),  # too large
    )
    for headers, body, status, feed in cases:
        before = {q.id for q in rows(w)}
        response = w.client.post(
            "/api/push/sensor",
            data=body,
            content_type="application/json",
            headers=headers,
            environ_base=address(),
        )
        assert response.status_code == status, response.data
        assert "error" in response.get_json()
        new = [q for q in rows(w) if q.id not in before]
        assert [q.feed_name for q in new] == [feed], (status, [(q.feed_name, q.reason) for q in new])
        assert len(new[0].raw) <= refusals.RAW_CHARS and "gcp_" + "nobody" not in new[0].raw
    assert w.counts()[:2] == (0, 0)
