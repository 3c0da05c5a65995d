"""The one URL builder writes the links the screens wrote by hand before it (same strings)."""

from __future__ import annotations

from dashboard.page import PageContext
from dashboard.urls import Urls


def test_links_keep_the_language_and_the_base_path() -> None:
    en, zh, under = Urls("/", "en"), Urls("/", "zh-CN"), Urls("/gridcc/", "en")
    assert en.wall() == "/?lang=en" and zh.wall() == "/" and under.wall() == "/gridcc/?lang=en"
    assert en.case(42) == "/cases/42?lang=en" and zh.case("7") == "/cases/7"
    assert en.overdue("500151") == "/overdue?unit=500151&lang=en" and zh.overdue(None) == "/overdue"
    assert under.feeds() == "/gridcc/feeds?lang=en" and zh.audit(kind="signin") == "/audit?kind=signin"
    assert zh.duty("?street=500151001&lang=en") == "/duty?street=500151001&lang=en"
    assert under.export("?street=1") == "/gridcc/export/cases.csv?street=1"
    assert zh.export("") == "/export/cases.csv"
    assert under.static("wall.js") == "/gridcc/assets/wall.js"


def test_switch_keeps_the_other_parameters() -> None:
    urls = Urls("/gridcc/", "zh-CN")
    assert urls.switch("/feeds", {"tab": "rq", "lang": "en"}, "zh-CN") == "/gridcc/feeds?tab=rq"
    assert urls.switch("/feeds", {"tab": "rq"}, "en") == "/gridcc/feeds?tab=rq&lang=en"
    assert urls.switch("/", {}, "zh-CN") == "/gridcc/"


def test_a_page_context_hands_its_urls() -> None:
    ctx = PageContext(settings=None, services=None, scope=None, lang="en", base_path="/x/")  # type: ignore[arg-type]
    assert ctx.urls == Urls("/x/", "en") and ctx.urls.in_lang("zh-CN").case(1) == "/x/cases/1"


def test_the_maps_layer_urls_are_the_servers_routes(app) -> None:
    """gridcc_map.js fetches what the server wrote into the map's config (Urls.layers), each a route the
    server has; the JS writes no layer path of its own."""
    from pathlib import Path

    adapter = app.server.url_map.bind("localhost")
    for name, template in Urls("/").layers().items():
        path = template.replace("{level}", "street")
        endpoint, _ = adapter.match(path)
        assert endpoint.startswith("gridcc_layers."), (name, path, endpoint)
    assert adapter.match(Urls("/").api("versions"))[0] == "gridcc_layers.api_versions"
    root = Path(__file__).resolve().parents[2] / "dashboard" / "assets"
    for script in ("gridcc_map.js", "wall.js"):
        text = (root / script).read_text(encoding="utf-8")
        assert '"layers/' not in text and '"api/' not in text and "base(" not in text, script
