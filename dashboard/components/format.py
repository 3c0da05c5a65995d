"""Formatting shared by the case and feeds pages: local times, durations, event and priority labels."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from ..i18n import has, label, t

EMPTY = "—"
EVENT_KINDS = (
    "created",
    "status",
    "illegal_transition",
    "due_soon",
    "overdue",
    "escalation",
    "update",
    "note",
    "merged",
    "unmerged",
)
LEVELS = ("community", "street", "district", "grid")


def priority_label(priority: str, lang: str) -> str:
    key = f"priority_{priority}"
    return t(key, lang) if priority in ("urgent", "normal", "complex") else priority


def level_label(level: str | None, lang: str) -> str:
    return t(f"level_{level}", lang) if level in LEVELS else (level or EMPTY)


def event_label(kind: str, detail: str, lang: str) -> str:
    """The Chinese (or English) name of a timeline event; supervision cards by their colour."""
    if kind == "supervision":
        colour = detail.strip().lower()
        if colour.startswith("cancel:"):  # a ``cancel:<card>`` supervision event (data.auth.supervision)
            return t("event_supervision_cancel", lang)
        return (
            t(f"event_supervision_{colour}", lang)
            if colour in ("yellow", "red")
            else t("case_supervision", lang)
        )
    if kind in EVENT_KINDS:
        return t(f"event_{kind}", lang)
    return kind


def event_detail(kind: str, detail: str, lang: str, to_status: str | None = None) -> str:
    """The detail of an event, readable: ``社区 → 镇街`` for an escalation; feed text stays as it came,
    but for the feed's status word when it is the very state the change column shows."""
    if to_status and detail.strip() == to_status:
        return ""
    if kind == "escalation" and "→" in detail:
        a, b = detail.split("→", 1)
        b, _, why = b.strip().partition(" ")  # "street loop:12:police": raised by an unanswered instruction
        levels = f"{level_label(a.strip(), lang)} → {level_label(b, lang)}"
        if why.startswith("loop:"):
            departments = why.split(":", 2)[-1]
            return f"{levels}（{t('loop_escalated_unanswered', lang, departments=departments)}）"
        return levels
    if kind == "supervision":
        return ""
    if kind == "created" and detail.startswith("alert:") and detail[6:].isdecimal():  # data.desk.convert
        return t("desk_from_alert", lang, id=detail[6:])
    if kind in ("due_soon", "overdue") and detail.startswith("deadline "):
        return ""  # the deadline is shown in the case's facts
    if kind in ("created", "status") and FEED_WORD.fullmatch(detail.strip()):
        return t("event_feed_status", lang, word=feed_word(detail.strip(), lang))
    if kind == "update":
        return changed_fields(detail, lang)
    if kind in ("merged", "unmerged"):  # data.merge: into:<number> | primary:<numbers> | from:<number>
        how, _, numbers = detail.partition(":")
        if how in ("into", "from"):
            return t(f"merge_{how}", lang, number=numbers)
        if how == "primary":
            return t("merge_primary", lang, numbers=numbers)
    return detail


# A department's status word as a machine writes it (``in_progress``, ``Open``, ``waiting for parts``):
# shown as the department's, in words when it names one of ours. Other details (回访：满意, alert:12) are not.
FEED_WORD = re.compile(r"[A-Za-z][A-Za-z0-9_ -]{0,39}")


def feed_word(word: str, lang: str) -> str:
    """A department's own status word (Open311 ``in_progress``, ``open`` …) in the reader's words when it
    names one of ours; an unknown word as it came (it is the department's, and says what it said)."""
    code = word.lower().replace("-", "_").replace(" ", "_")
    for kind in ("status", "feed_word"):
        if has(f"{kind}.{code}"):
            return label(kind, code, lang)
    return word


# an "update" event lists the case's columns a feed changed (workers.ingest.cases)
FIELD_WORDS = {
    "lon": "place",
    "lat": "place",
    "category_code": "category",
    "category_name": "category",
}


def changed_fields(detail: str, lang: str) -> str:
    """``expected_at, lon, lat`` → 预计办结时间、位置: the columns a feed's update changed, in words."""
    names = [FIELD_WORDS.get(n.strip(), n.strip()) for n in detail.split(",") if n.strip()]
    words = [label("case_field", n, lang) for n in dict.fromkeys(names)]
    return t("list_sep", lang).join(words)


def actor_label(actor: str, lang: str, sources: Mapping[str, str] | None = None) -> str:
    """Who acted: the system, a user, or a feed or a department (``feed:<name>``, ``dept:<code>``) by its
    department's name (``sources``: feed name or department code → name)."""
    if not actor or actor == "system":
        return t("actor_system", lang)
    name = actor.removeprefix("feed:").removeprefix("dept:")
    return (sources or {}).get(name, name)


def data_attrs(**values: str) -> dict[str, Any]:
    """``data-*`` attributes for a Dash component (``case_id=`` → ``data-case-id``), for tests and CSS."""
    return {"data-" + key.replace("_", "-"): value for key, value in values.items()}


def as_attrs(attrs: dict[str, str]) -> dict[str, Any]:
    """``data-*`` attributes already named (typed loosely: Dash takes them as keyword arguments)."""
    return dict(attrs)
