"""The dashboard's door to the text catalogue (:mod:`data.text`): ``t()`` and the language helpers the
screens import, and the strings the map's JavaScript needs. No text lives here."""

from __future__ import annotations

from data.text import DEFAULT, LANGUAGES, has, label, labels, lang_from_query, normalise, t

__all__ = [
    "DEFAULT",
    "JS_KEYS",
    "LANGUAGES",
    "has",
    "js_strings",
    "label",
    "lang_from_query",
    "normalise",
    "state_label",
    "t",
]

# The keys the map's JavaScript needs (popups, tooltips, labels); sent once in the layers' hideout.
JS_KEYS = (
    "layer_cases",
    "layer_alerts",
    "layer_risks",
    "hotspot_open",
    "hotspot_cases",
    "legend_fill",
    "legend_overdue_outline",
    "legend_cases",
    "legend_alerts",
    "synthetic_note",
    "open",
    "overdue",
    "due_soon",
    "on_time",
    "category",
    "status",
    "address",
    "deadline",
    "held_at",
    "level_community",
    "level_street",
    "level_district",
    "supervision_yellow",
    "supervision_red",
    "open_case",
    "case_no",
    "signal_blue",
    "signal_yellow",
    "signal_orange",
    "signal_red",
    "alert_new",
    "alert_acknowledged",
    "alert_linked",
    "onset",
    "expires",
    "covered_grids",
    "call_ticker_count",  # 预警叫应: "已叫应 {answered}/{total} 网格" on a calling warning's tooltip
    "call_silent",
    "call_page_title",
    "more_grids",
    "role_grid_worker",
    "role_grid_chief",
    "role_party_branch",
    "risk_high",
    "risk_medium",
    "risk_low",
    "risk_political",
    "risk_public_order",
    "risk_social_conflict",
    "risk_public_safety",
    "risk_cyber",
    "owner",
    "close_by",
    "cases_in_cluster",
    "approx_grid",
    "approx_community",
    "approx_grid_note",
    "approx_community_note",
    "location",
    "legend_approx",
)


def state_label(state: str, lang: str = DEFAULT) -> str:
    return label("status", state, lang)


def js_strings(lang: str = DEFAULT) -> dict[str, object]:
    """Everything the map's JavaScript shows, in one language."""
    lang = normalise(lang)
    strings: dict[str, object] = {key: t(key, lang) for key in JS_KEYS}
    strings["states"] = labels("status", lang)
    strings["call_states"] = labels("call_state", lang)
    strings["intl_locale"] = t("time_clock_intl_locale", lang)  # the browser's Intl locale for times
    return strings
