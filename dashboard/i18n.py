"""UI text: zh-CN by default, English available (``?lang=en``). Case state labels come from
:data:`data.states.LABELS`."""

from __future__ import annotations

from collections.abc import Mapping

from data.states import LABELS as STATE_LABELS

LANGUAGES = ("zh-CN", "en")
DEFAULT = "zh-CN"

STRINGS: dict[str, tuple[str, str]] = {
    # key: (zh-CN, en)
    "app_title": ("网格化社会治理指挥中心", "Grid governance command centre"),
    "map_title": ("{name} · 网格治理一张图", "{name} · grid governance map"),
    "not_found": ("页面不存在", "Page not found"),
    "back_home": ("返回首页", "Back to the map"),
    "switch_language": ("English", "中文"),
    "no_units": ("尚无区划数据：请先运行 gridcc geo generate", "No units yet: run gridcc geo generate"),
    "layer_units": ("区划与网格", "Districts, streets, grids"),
    "layer_cases": ("在办案件", "Open cases"),
    "layer_alerts": ("预警", "Alerts"),
    "layer_risks": ("风险台账", "Risks"),
    "legend_fill": ("在办案件数", "Open cases"),
    "legend_overdue_outline": ("含超期案件", "Has overdue cases"),
    "legend_cases": ("案件", "Cases"),
    "legend_alerts": ("预警信号", "Warning signals"),
    "synthetic_note": ("边界为示意（合成），非官方界线", "Synthetic boundaries, not official"),
    "open": ("在办", "Open"),
    "overdue": ("超期", "Overdue"),
    "due_soon": ("临期", "Due soon"),
    "on_time": ("正常", "On time"),
    "category": ("类别", "Category"),
    "status": ("状态", "Status"),
    "address": ("地址", "Address"),
    "deadline": ("办理时限", "Deadline"),
    "held_at": ("办理层级", "Held at"),
    "level_community": ("社区", "Community"),
    "level_street": ("镇街", "Street"),
    "level_district": ("区县", "District"),
    "supervision_yellow": ("黄牌督办", "Yellow card"),
    "supervision_red": ("红牌督办", "Red card"),
    "open_case": ("查看案件 →", "Open case →"),
    "case_no": ("案件", "Case"),
    "signal_blue": ("蓝色预警", "Blue warning"),
    "signal_yellow": ("黄色预警", "Yellow warning"),
    "signal_orange": ("橙色预警", "Orange warning"),
    "signal_red": ("红色预警", "Red warning"),
    "alert_new": ("未确认", "Unacknowledged"),
    "alert_acknowledged": ("已确认", "Acknowledged"),
    "alert_linked": ("已关联案件", "Linked to a case"),
    "onset": ("生效", "From"),
    "expires": ("解除", "Until"),
    "covered_grids": ("覆盖网格", "Covered grids"),
    "more_grids": ("共 {n} 个网格", "{n} grids in all"),
    "role_grid_worker": ("网格员", "Grid worker"),
    "role_grid_chief": ("网格长", "Grid chief"),
    "role_party_branch": ("网格党支部", "Party branch"),
    "risk_high": ("高风险", "High risk"),
    "risk_medium": ("中风险", "Medium risk"),
    "risk_low": ("低风险", "Low risk"),
    "risk_political": ("政治安全", "Political security"),
    "risk_public_order": ("社会治安", "Public order"),
    "risk_social_conflict": ("社会矛盾", "Social conflict"),
    "risk_public_safety": ("公共安全", "Public safety"),
    "risk_cyber": ("网络安全", "Cyber security"),
    "owner": ("责任单位", "Owner"),
    "close_by": ("销号时限", "Close by"),
    "cases_in_cluster": ("件", "cases"),
}

# The keys the map's JavaScript needs (popups, tooltips, labels); sent once in the layers' hideout.
JS_KEYS = tuple(
    k
    for k in STRINGS
    if k
    not in {"app_title", "map_title", "not_found", "back_home", "switch_language", "no_units", "layer_units"}
)


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


def t(key: str, lang: str = DEFAULT, **values: object) -> str:
    """The text of ``key`` in ``lang`` (zh-CN when unknown), with ``{placeholders}`` filled."""
    zh, en = STRINGS[key]
    text = en if normalise(lang) == "en" else zh
    return text.format(**values) if values else text


def state_label(state: str, lang: str = DEFAULT) -> str:
    return STATE_LABELS[normalise(lang)].get(state, state)


def js_strings(lang: str = DEFAULT) -> dict[str, object]:
    """Everything the map's JavaScript shows, in one language."""
    lang = normalise(lang)
    strings: dict[str, object] = {key: t(key, lang) for key in JS_KEYS}
    strings["states"] = dict(STATE_LABELS[lang])
    return strings


def lang_from_query(query: Mapping[str, str], default: str = DEFAULT) -> str:
    return normalise(query.get("lang"), default)
