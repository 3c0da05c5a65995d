"""The text catalogue: every word a person reads, in zh-CN (the default) and English, and the one place
that formats local times, durations and percentages for them.

The words live in two gettext catalogues beside this module, ``zh_CN.po`` and ``en.po``, read once at
first use with Babel (``babel.messages.pofile.read_po``); times, numbers and percentages are formatted
with ``babel.dates`` / ``babel.numbers`` under the language's CLDR locale. ``data``, the CLI, the layers
and the dashboard all read this module, so they say the same word for the same thing.

**Message ids are keys, not Chinese source text.** A label of a code is ``<kind>.<code>``
(``feed_status.stale``, ``level.street``, ``role.duty``: :func:`label`); a screen's text is a flat key
(``duty_title``: :func:`t`). Keys keep the two catalogues exactly parallel (a test checks they hold the same
keys, no empty message, the same ``{placeholders}``), and let a word be changed in one file without
touching code. Values use ``str.format`` placeholders (``{n}``), as the screens' text always has.

**Why Babel rather than something else.** The app speaks two languages chosen per request by ``?lang=``
and carried explicitly through Dash callbacks, the RQ workers and the CLI — there is no ambient request
locale to hang a translation on. Flask-Babel's ``gettext`` reads the locale from the Flask request (none
in a worker, a CLI command or a background callback) and so would still need the explicit ``lang`` this
module takes; Python's ``gettext`` needs compiled ``.mo`` files and a build step, and formats nothing;
Fluent (``fluent.runtime``) is a good message format but another file format and no CLDR date/number
formatting of its own. Babel gives both halves with one dependency: the standard ``.po`` files every
translation tool edits, read directly at startup (no compile step, nothing generated in the package
build), and CLDR-correct dates (``星期日`` / ``Sun``), numbers and percentages for ``zh_Hans_CN`` and ``en``.

Nothing is read at import time: the catalogues load on first use and are cached for the process.
"""

from __future__ import annotations

import string
from collections.abc import Mapping
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from zoneinfo import ZoneInfo

from babel.dates import format_datetime
from babel.messages.pofile import read_po
from babel.numbers import format_decimal, format_percent

LANGUAGES = ("zh-CN", "en")
DEFAULT = "zh-CN"
HERE = Path(__file__).resolve().parent
FILES = {"zh-CN": HERE / "zh_CN.po", "en": HERE / "en.po"}
LOCALES = {"zh-CN": "zh_Hans_CN", "en": "en"}  # CLDR locales for babel.dates / babel.numbers
EMPTY = "—"  # shown for a missing time or an undefined rate

# The kinds of codes (``<kind>.<code>`` keys) and, for each, the codes it must name — read by the
# vocabulary test, which fails when a code has no label in a language. ``escalation`` names the same
# codes as ``level`` (a case is escalated to a level), so it reads the level's word.
KIND_ALIASES = {"escalation": "level"}
# Codes that are shown as nothing on purpose: a case without a supervision card.
BLANK = frozenset({"supervision.none"})

# Older flat keys of the screens that name a code: one word, read from the code's label.
ALIASES = {
    "alert_new": "alert_state.new",
    "alert_acknowledged": "alert_state.acknowledged",
    "alert_linked": "alert_state.linked",
    "level_community": "level.community",
    "level_street": "level.street",
    "level_district": "level.district",
    "level_grid": "level.grid",
    "role_grid_worker": "staff_role.grid_worker",
    "role_grid_chief": "staff_role.grid_chief",
    "role_party_branch": "staff_role.party_branch",
    "risk_political": "risk_kind.political",
    "risk_public_order": "risk_kind.public_order",
    "risk_social_conflict": "risk_kind.social_conflict",
    "risk_public_safety": "risk_kind.public_safety",
    "risk_cyber": "risk_kind.cyber",
    "supervision_yellow": "supervision.yellow",
    "supervision_red": "supervision.red",
    "feed_status_ok": "feed_status.ok",
    "feed_status_stale": "feed_status.stale",
    "feed_status_failing": "feed_status.failing",
    "feed_status_never": "feed_status.never",
    "feed_status_disabled": "feed_status.disabled",
    "feed_status_paused": "feed_status.paused",
}

# Named formats of a local time, as CLDR patterns (the same in both languages, except the clock's weekday,
# whose pattern is in the catalogue: ``星期日`` in Chinese, ``Sun`` in English).
TIME_FORMS = {
    "minute": "yyyy-MM-dd HH:mm",  # 2024-05-01 14:03 (sorts as text)
    "second": "yyyy-MM-dd HH:mm:ss",
    "day_minute": "MM-dd HH:mm",  # 05-01 14:03
    "time": "HH:mm:ss",  # 14:03:18
    "stamp": "yyyyMMdd-HHmm",  # in file names
}


def normalise(lang: str | None, default: str = DEFAULT) -> str:
    """A supported language from a query value such as ``en``, ``zh``, ``zh-CN``; else the default."""
    if not lang:
        return default
    low = lang.strip().lower()
    if low.startswith("en"):
        return "en"
    if low.startswith("zh"):
        return "zh-CN"
    return default


def lang_from_query(query: Mapping[str, str], default: str = DEFAULT) -> str:
    return normalise(query.get("lang"), default)


def other(lang: str) -> str:
    """The language the switch at the top right offers."""
    return "zh-CN" if normalise(lang) == "en" else "en"


def lang_params(lang: str) -> dict[str, str]:
    """What a link adds to keep the page's language: ``{"lang": "en"}``, nothing for the default."""
    lang = normalise(lang)
    return {} if lang == DEFAULT else {"lang": lang}


def lang_suffix(lang: str) -> str:
    """``?lang=en`` for a link in a non-default language; "" otherwise."""
    params = lang_params(lang)
    return f"?lang={params['lang']}" if params else ""


def pick(lang: str, zh: str, en: str | None) -> str:
    """A name that comes in the data in two languages (a category's ``name`` / ``name_en``): the
    English one in English when it has one, else the Chinese."""
    return (en or zh) if normalise(lang) == "en" else zh


@cache
def catalogue(lang: str) -> Mapping[str, str]:
    """Every key → text of one language, read from its ``.po`` file once per process."""
    with FILES[normalise(lang)].open("rb") as f:
        po = read_po(f, locale=LOCALES[normalise(lang)].replace("_Hans", ""))
    return {str(m.id): str(m.string) for m in po if m.id and isinstance(m.id, str)}


def keys() -> frozenset[str]:
    return frozenset(catalogue(DEFAULT))


def has(key: str) -> bool:
    return ALIASES.get(key, key) in catalogue(DEFAULT)


def t(key: str, lang: str = DEFAULT, **values: object) -> str:
    """The text of ``key`` in ``lang`` (zh-CN when unknown), with ``{placeholders}`` filled. An unknown
    key is a ``KeyError``: every word is in the catalogue."""
    text = catalogue(normalise(lang))[ALIASES.get(key, key)]
    return text.format(**values) if values else text


def label(kind: str, code: str | None, lang: str = DEFAULT) -> str:
    """The label of ``code`` in ``kind`` (``label("feed_status", "stale")`` → 数据过期); "" for None; the
    code itself when the catalogue has no label for it (a code from a feed we do not know)."""
    if code is None:
        return ""
    key = f"{KIND_ALIASES.get(kind, kind)}.{code}"
    if key in BLANK:
        return ""
    return catalogue(normalise(lang)).get(key, code)


def labels(kind: str, lang: str = DEFAULT) -> dict[str, str]:
    """Every code of ``kind`` → its label (for the map's JavaScript and the selectors)."""
    prefix = f"{KIND_ALIASES.get(kind, kind)}."
    return {k[len(prefix) :]: v for k, v in catalogue(normalise(lang)).items() if k.startswith(prefix)}


def placeholders(text: str) -> frozenset[str]:
    return frozenset(name for _, name, _, _ in string.Formatter().parse(text) if name)


# ---------------------------------------------------------------- formatting (Babel, CLDR)


def _locale(lang: str) -> str:
    return LOCALES[normalise(lang)]


def local_time(
    value: datetime | float | None,
    tz: str | ZoneInfo,
    lang: str = DEFAULT,
    form: str = "minute",
    *,
    none: str = "",
) -> str:
    """A moment as people read it in ``tz`` (Asia/Shanghai): ``form`` is one of :data:`TIME_FORMS` or
    ``clock`` (``2024-05-01 星期三 14:03:18``). ``value`` is an aware datetime (a naive one is taken as
    UTC, as stored) or seconds since the epoch; ``none`` (default "") for None."""
    if value is None:
        return none
    if isinstance(value, int | float):
        value = datetime.fromtimestamp(value, UTC)
    elif value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    zone = ZoneInfo(tz) if isinstance(tz, str) else tz
    pattern = t("time_clock_pattern", lang) if form == "clock" else TIME_FORMS[form]
    return format_datetime(value, pattern, tzinfo=zone, locale=_locale(lang))


def duration(seconds: float | None, lang: str = DEFAULT, form: str = "auto", *, none: str = "") -> str:
    """A span of time, absolute, for people. ``form``:

    - ``auto``: ``42 秒``, ``7 分钟``, ``3 小时``, ``2 天 1 小时`` (below two minutes in seconds, below
      two hours in minutes, then rounded to the hour);
    - ``hours``: ``5 小时``, ``2 天 1 小时``, rounded to the hour;
    - ``compact``: ``2天3小时`` / ``2d 3h``, whole hours (cut, not rounded).

    ``none`` (default "") for None."""
    if seconds is None:
        return none
    s = abs(seconds)
    if form == "compact":
        days, hours = divmod(int(s // 3600), 24)
        return t("overdue_days", lang, d=days, h=hours) if days else t("overdue_hours", lang, h=hours)
    if form == "auto" and s < 120:
        return t("seconds", lang, n=round(s))
    if form == "auto" and s < 7200:
        return t("minutes", lang, n=round(s / 60))
    days, hours = divmod(round(s / 3600), 24)
    return t("days_hours", lang, d=days, h=hours) if days else t("hours", lang, n=hours)


def percent(rate: float | None, lang: str = DEFAULT, digits: int = 1) -> str:
    """``98.8%`` (a rate 0..1); ``—`` when the rate is undefined (zero denominator)."""
    if rate is None:
        return EMPTY
    pattern = "0." + "0" * digits + "%" if digits else "0%"
    return format_percent(rate, pattern, locale=_locale(lang))


def number(value: float, lang: str = DEFAULT, digits: int = 0) -> str:
    """A plain number with ``digits`` decimals (no grouping: the wall reads ``1234``)."""
    pattern = "0." + "0" * digits if digits else "0"
    return format_decimal(value, pattern, locale=_locale(lang))
