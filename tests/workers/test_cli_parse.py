"""``gridcc feeds parse``: JSON lines out, rejections on stderr, exit 0/1/2, every conformance file."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from gridcc.cli.feeds_parse import parse

from ._feed_helpers import CONFORMANCE, FEEDS


def run(*args: str | Path) -> Result:
    return CliRunner().invoke(parse, [str(a) for a in args])


def lines(text: str) -> list[dict]:
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def test_open311_conformance_prints_cases() -> None:
    result = run("--protocol", "open311", CONFORMANCE / "open311/service_requests.xml")
    assert result.exit_code == 0, result.stderr
    assert result.stderr == ""
    out = lines(result.stdout)
    assert [c["external_id"] for c in out] == ["638344", "638349"]
    first = out[0]
    for key in ("status", "category_code", "category_name", "description", "address", "lon", "lat"):
        assert key in first
    assert (first["status"], first["requested_at"], first["expected_at"]) == (
        "closed",
        "2010-04-14T14:37:38Z",
        "2010-04-15T14:37:38Z",
    )
    # San Francisco: outside the plausible area (China), so no point; the case is kept all the same
    assert (first["lon"], first["lat"]) == (None, None)


@pytest.mark.parametrize(
    ("name", "external_id", "colour"),
    [
        ("canada.cap", "2.49.0.1.124.6bddbc91.2012", "blue"),
        ("australia.cap", "tag:www.rfs.nsw.gov.au2011-10-06:40184", "blue"),
        ("earthquake-iso8859-1.cap", "USGS-earthquakes-usB000D5T4.3947362.7.20121014T225304.360Z.0", ""),
        ("wcatwc-warning.cap", "PAAQ-2-lqw6d6", "red"),
    ],
)
def test_valid_cap_conformance_files(name: str, external_id: str, colour: str) -> None:
    result = run("--protocol", "cap", CONFORMANCE / "cap" / name)
    assert result.exit_code == 0, result.stderr
    (alert,) = lines(result.stdout)
    assert (alert["external_id"], alert["colour"]) == (external_id, colour)
    for key in ("msg_type", "references", "event", "severity", "urgency", "certainty", "onset", "expires"):
        assert key in alert
    assert alert["headline"] and "area_desc" in alert and "geometry" in alert


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("invalid.cap", "CAP schema violation"),
        ("canada_errors.cap", "CAP Update without references"),
        ("xee.cap", "XML external entity / DTD forbidden"),
    ],
)
def test_bad_cap_conformance_files_exit_1(name: str, reason: str) -> None:
    result = run("--protocol", "cap", CONFORMANCE / "cap" / name)
    assert result.exit_code == 1
    assert result.stdout == ""
    (rejection,) = lines(result.stderr)
    assert rejection["external_id"] is None and reason in rejection["reason"]


def test_canada_geometry_is_lon_lat() -> None:
    result = run("--protocol", "cap", CONFORMANCE / "cap/canada.cap")
    (alert,) = lines(result.stdout)
    assert alert["geometry"]["coordinates"][0][0][0] == [-82.9314, 42.3481]
    assert alert["sent"] == "2012-05-02T23:21:04Z"


def test_partly_bad_feed_prints_good_records_and_exits_1() -> None:
    result = run("--protocol", "open311", FEEDS / "open311_messy.json")
    assert result.exit_code == 1
    assert len(lines(result.stdout)) == 4
    errors = lines(result.stderr)
    assert len(errors) == 5 and all(e["reason"] for e in errors)
    assert "<script>alert(1)</script> 夜间施工噪声" in result.stdout  # ensure_ascii=False, text untouched


def test_open311_error_document_exits_1() -> None:
    result = run("--protocol", "open311", FEEDS / "open311_errors.xml")
    assert result.exit_code == 1 and result.stdout == ""
    (err,) = lines(result.stderr)
    assert err["feed_error"].startswith("403: Invalid api_key received")
    assert err["feed_error"].endswith("; 404: jurisdiction_id not found")


def test_sensor_file() -> None:
    result = run("--protocol", "sensor", FEEDS / "sensors.json")
    assert result.exit_code == 0, result.stderr
    alerts = lines(result.stdout)
    assert [a["kind"] for a in alerts] == ["fence", "noise", "landslide", "smoke", "thermal", "noise"]
    assert alerts[0]["event"] == "电子围栏入侵"


def test_cap_index_prints_links() -> None:
    result = run("--protocol", "cap", FEEDS / "cap_index_rss.xml")
    assert result.exit_code == 0
    assert lines(result.stdout)[0] == {"index_link": "https://alerts.example.cn/cap/0002.xml"}


def test_missing_file_exits_2(tmp_path: Path) -> None:
    result = run("--protocol", "cap", tmp_path / "nope.cap")
    assert result.exit_code == 2
    (err,) = lines(result.stderr)
    assert err["reason"].startswith("cannot read file")


def test_directory_exits_2(tmp_path: Path) -> None:
    assert run("--protocol", "cap", tmp_path).exit_code == 2


def test_unreadable_file_exits_2(tmp_path: Path) -> None:
    import os

    locked = tmp_path / "locked.cap"
    locked.write_bytes(b"<alert/>")
    locked.chmod(0)
    if os.access(locked, os.R_OK):  # root reads anything: nothing to test
        pytest.skip("running as root: permission bits do not stop reads")
    assert run("--protocol", "cap", locked).exit_code == 2


def test_unknown_protocol_is_a_usage_error() -> None:
    result = run("--protocol", "rss", FEEDS / "cap_index_rss.xml")
    assert result.exit_code == 2 and "Invalid value for '--protocol'" in result.output


def test_every_conformance_file_is_handled() -> None:
    """No conformance file makes the command crash: each gives records (0) or reasons (1)."""
    for path in sorted(CONFORMANCE.rglob("*")):
        if not path.is_file():
            continue
        protocol = "open311" if path.parent.name == "open311" else "cap"
        result = run("--protocol", protocol, path)
        assert result.exception is None or isinstance(result.exception, SystemExit), path
        assert result.exit_code in (0, 1), path
        assert lines(result.stdout) or lines(result.stderr), path


def test_through_the_gridcc_entry_point(tmp_path: Path) -> None:
    """The registered ``gridcc feeds parse`` in a real process: xee.cap aimed at a live local server."""
    import subprocess
    import sys

    from ._feed_helpers import recording_server

    secret = tmp_path / "secret.txt"
    secret.write_text("ENTRYPOINT-MARKER-91c", encoding="utf-8")
    with recording_server() as (base, seen):
        attack = (CONFORMANCE / "cap/xee.cap").read_text(encoding="utf-8")
        attack = attack.replace("http://localhost:8080", base).replace("file:///etc/passwd", secret.as_uri())
        doc = tmp_path / "xee-local.cap"
        doc.write_text(attack, encoding="utf-8")
        env = {"PATH": "/usr/bin:/bin", "GRIDCC_DATA_DIR": str(tmp_path / "var")}
        command = [sys.executable, "-m", "gridcc", "feeds", "parse", "--protocol", "cap"]

        def gridcc(path: Path) -> subprocess.CompletedProcess[str]:
            return subprocess.run(
                [*command, str(path)], capture_output=True, text=True, env=env, timeout=120, check=False
            )

        bad = gridcc(doc)
        good = gridcc(CONFORMANCE / "cap/canada.cap")
        assert seen == []
    assert bad.returncode == 1, bad.stderr
    assert bad.stdout == ""
    assert "XML external entity / DTD forbidden" in bad.stderr
    assert "ENTRYPOINT-MARKER-91c" not in bad.stdout + bad.stderr
    assert good.returncode == 0, good.stderr
    assert json.loads(good.stdout)["references"] == [
        "2.49.0.1.124.a3f342a4.2012",
        "2.49.0.1.124.60f31a3a.2012",
    ]
