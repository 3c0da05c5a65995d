"""The text catalogue (data/text): one word for one thing, in both languages, and nobody else holding text.

- every code the system knows has a label in each language;
- the two catalogues hold the same keys, no empty message, the same ``{placeholders}``;
- no two keys name one code (an older flat key of a screen reads the code's label through an alias);
- the words the screens used to disagree on are gone, everywhere: one word each for a stale feed, a
  failing one, one never polled, the street level and an unacknowledged alert;
- no ``lang == "en"`` branch outside the catalogue module.
"""

from __future__ import annotations

import ast
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import get_args

import pytest

from data import text
from data.auth.audit import ACTIONS
from data.auth.roles import Role
from data.feed_status import FeedState
from data.models import ALERT_STATES, LEVELS, RISK_KINDS, SEVERITY_COLOUR
from data.row_issues import key_of
from data.states import STATES

REPO = Path(__file__).resolve().parents[2]
PACKAGES = ("data", "layers", "workers", "dashboard", "gridcc")

# kind → every code of it the system stores or computes (read from where the codes are defined)
CODES: dict[str, tuple[str, ...]] = {
    "status": STATES,
    "feed_status": get_args(FeedState),
    "role": tuple(r.value for r in Role),
    "level": LEVELS,
    "escalation": ("community", "street", "district"),
    "alert_state": ALERT_STATES,
    "alert_event": ("created", "updated", "raised", "acknowledged", "escalated", "expired", "cancelled"),
    "alert_kind": ("weather", "fence", "noise", "landslide", "smoke", "thermal"),
    "colour": tuple(SEVERITY_COLOUR.values()),
    "risk_kind": RISK_KINDS,
    "risk_level": ("high", "medium", "low"),
    "satisfaction": ("satisfied", "basic", "unsatisfied"),
    "supervision": ("yellow", "red"),
    "staff_role": ("grid_worker", "grid_chief", "party_branch"),
    "trend": ("up", "down", "flat"),
    "audit_action": ACTIONS,
}

# The one word chosen for each concept, and the words it replaced (which must appear nowhere).
VOCABULARY = {
    ("feed_status", "stale"): ("数据过期", "Stale", ("滞后",)),
    ("feed_status", "failing"): ("异常", "Failing", ("出错", "故障")),
    ("feed_status", "never"): ("从未轮询", "Never polled", ("未接入",)),
    ("level", "street"): ("镇街", "Street", ("街道",)),
    ("alert_state", "new"): ("未确认", "Unacknowledged", ()),
}


@pytest.mark.parametrize("kind", sorted(CODES))
def test_every_code_has_a_label_in_each_language(kind: str) -> None:
    for lang in text.LANGUAGES:
        missing = [c for c in CODES[kind] if text.label(kind, c, lang) in ("", c)]
        assert not missing, f"{kind}: no {lang} label for {missing}"


def test_the_catalogues_hold_the_same_keys_and_placeholders() -> None:
    zh, en = (text.catalogue(lang) for lang in text.LANGUAGES)
    assert set(zh) == set(en), sorted(set(zh) ^ set(en))
    assert not [k for k in zh if not zh[k].strip() or not en[k].strip()]
    differ = {k for k in zh if text.placeholders(zh[k]) != text.placeholders(en[k])}
    # 万州区、涪陵区、渝中区等38个区域 counts them all; "Wanzhou, Fuling, Yuzhong and 35 more" the rest
    assert differ == {"scope_more"}


def test_no_two_keys_name_one_code() -> None:
    keys = text.keys()
    coded = {k for k in keys if "." in k}
    # an old flat key ``<kind>_<code>`` beside ``<kind>.<code>`` would be a second name for the code
    assert not [k for k in keys if "." not in k and k.replace("_", ".", 1) in coded]
    # the screens' older flat keys read the code's own label, not a copy of it
    assert not set(text.ALIASES) & keys
    assert set(text.ALIASES.values()) <= keys
    # a kind that names another kind's codes has no labels of its own
    assert not [k for k in keys if k.split(".")[0] in text.KIND_ALIASES]
    for kind, same in text.KIND_ALIASES.items():
        for lang in text.LANGUAGES:
            assert [text.label(kind, c, lang) for c in CODES[kind]] == [
                text.label(same, c, lang) for c in CODES[kind]
            ]


@pytest.mark.parametrize(("concept", "words"), VOCABULARY.items(), ids=lambda v: str(v))
def test_one_word_for_each_concept(concept: tuple[str, str], words: tuple[str, str, tuple[str, ...]]) -> None:
    zh, en, gone = words
    kind, code = concept
    assert (text.label(kind, code, "zh-CN"), text.label(kind, code, "en")) == (zh, en)
    for old in gone:
        in_catalogue = [k for k, v in text.catalogue("zh-CN").items() if old in v]
        assert not in_catalogue, f"{old!r} (now {zh!r}) still in {in_catalogue}"
        if old == "街道":  # a street's own name ends in 街道 (巴川街道): only the catalogue is checked
            continue
        in_code = [
            str(p.relative_to(REPO))
            for package in PACKAGES
            for p in (REPO / package).rglob("*.py")
            if old in p.read_text(encoding="utf-8")
        ]
        assert not in_code, f"{old!r} (now {zh!r}) written in {in_code}"


def test_every_screen_says_never_polled_the_same_way() -> None:
    for lang in text.LANGUAGES:
        never = text.label("feed_status", "never", lang)
        summary = text.t("feeds_summary", lang, n=1, ok=0, stale=0, failing=0, never=1)
        assert f"{never.lower()} 1" in summary.lower() or f"1 {never.lower()}" in summary.lower()


# The modules whose import reports (gridcc geo load | staff load | risks load) name a reason by its code.
IMPORTERS = ("data/tabular.py", "data/geo/load.py", "data/roster.py", "data/ledger.py")


def _reasons(path: Path) -> list[tuple[int, str | None, frozenset[str]]]:
    """Every ``report.error(row, key, reason, **values)`` / ``report.warn(...)`` of a module: its line,
    the reason (None when it is not a literal code) and the names of the values it passes."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr in ("error", "warn")
            and isinstance(node.func.value, ast.Name)
            and node.func.value.id == "report"
        ):
            reason = node.args[2] if len(node.args) > 2 else None
            code = (
                reason.value if isinstance(reason, ast.Constant) and isinstance(reason.value, str) else None
            )
            found.append((node.lineno, code, frozenset(k.arg for k in node.keywords if k.arg)))
    return found


@pytest.mark.parametrize("module", IMPORTERS)
def test_every_import_reason_has_its_words_in_each_language(module: str) -> None:
    """Each reason an import reports is a literal code whose ``import_<code>`` is in both catalogues and
    takes exactly the values the call passes (a missing one would be a KeyError on the admin's screen)."""
    reasons = _reasons(REPO / module)
    assert reasons, f"no report.error/warn in {module}"
    for lang in text.LANGUAGES:
        words = text.catalogue(lang)
        for line, code, values in reasons:
            assert code is not None, f"{module}:{line}: the reason is not a literal code"
            assert key_of(code) in words, f"{module}:{line}: no {lang} words for {key_of(code)}"
            assert text.placeholders(words[key_of(code)]) == values, f"{module}:{line}: {code} {values}"
            assert not values & {"key", "lang"}, f"{module}:{line}: t(key, lang, ...) takes those names"


def test_no_import_reason_is_written_in_the_code() -> None:
    """The summary lines and the ERROR/WARNING tags of the reports come from the catalogue too."""
    for module in IMPORTERS:
        source = (REPO / module).read_text(encoding="utf-8")
        for english in ("nothing loaded", "error(s)", "ERROR ", "WARNING", " inserted,", " loaded,"):
            assert english not in source, f"{english!r} written in {module}"


LANG = r"""["'](?:en|zh-CN)["']"""
BRANCH = re.compile(rf"""lang\w*\s*[!=]==?\s*{LANG}|{LANG}\s*[!=]==?\s*\w*lang""")


def test_no_language_branch_outside_the_catalogue() -> None:
    catalogue = REPO / "data" / "text" / "__init__.py"
    found = [
        f"{p.relative_to(REPO)}:{n}"
        for package in PACKAGES
        for p in sorted((REPO / package).rglob("*"))
        if p.suffix in (".py", ".js") and p != catalogue and ".venv" not in p.parts
        for n, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1)
        if BRANCH.search(line)
    ]
    assert not found, found


def test_local_times_durations_and_rates() -> None:
    at = datetime(2024, 5, 5, 6, 3, 18, tzinfo=UTC)  # a Sunday, 14:03:18 in Shanghai
    assert text.local_time(at, "Asia/Shanghai", "zh-CN", "clock") == "2024-05-05 星期日 14:03:18"
    assert text.local_time(at, "Asia/Shanghai", "en", "clock") == "2024-05-05 Sun 14:03:18"
    assert text.local_time(at.timestamp(), "Asia/Shanghai", "en", "time") == "14:03:18"
    assert text.local_time(at.replace(tzinfo=None), "Asia/Shanghai") == "2024-05-05 14:03"
    assert text.local_time(None, "Asia/Shanghai") == ""
    assert text.duration(42, "zh-CN") == "42 秒" and text.duration(25 * 3600, "en") == "1 d 1 h"
    assert text.duration(-(50 * 3600 + 59), "zh-CN", "compact") == "2天2小时"
    assert text.duration(3000, "en", "hours") == "1 h" and text.duration(None, none="—") == "—"
    assert text.percent(0.98765) == "98.8%" and text.percent(None) == "—"
