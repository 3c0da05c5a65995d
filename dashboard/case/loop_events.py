"""The loop's lines on the case's timeline, in words: which instruction, to which departments in which
role, its text; which department it reached, answered, failed to reach or did not 报到 in time.

The events' ``detail`` is written by :mod:`data.loop` for machines (``whistle:12 → police(lead); …``,
``police:12``, ``accepted:police:12: 王建国``, ``police:12: 8 attempt(s); …``); the instruction itself,
read with the case (:mod:`dashboard.case.loop`), gives its kind, recipients and texts."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from data.text import label

from ..i18n import t
from .loop import Sent

LOOP_KINDS = ("instruction", "delivered", "undelivered", "resend", "answer", "report_overdue")
_INSTRUCTION = re.compile(r"^([a-z_]+):(\d+)(?: → ([^;]*))?(?:; (.*))?$", re.S)
_RECIPIENT = re.compile(r"^([A-Za-z0-9_.-]+):(\d+)(?:: (.*))?$", re.S)
_ANSWER = re.compile(r"^([a-z]+):([A-Za-z0-9_.-]+):(\d+)(?:: (.*))?$", re.S)
_ATTEMPTS = re.compile(r"^(\d+) attempt\(s\)(?:; (.*))?$", re.S)
_CALLED = re.compile(r"([A-Za-z0-9_.-]+)\((lead|helper|sole)\)")


@dataclass(frozen=True)
class Words:
    label: str  # the event column
    detail: str  # the detail column


def _called(pairs: list[tuple[str, str]], names: Mapping[str, str], lang: str) -> str:
    return t("list_sep", lang).join(
        t("act_called", lang, department=names.get(code, code), role=label("recipient_role", role, lang))
        for code, role in pairs
    )


def _instruction(detail: str, names: Mapping[str, str], loop: Mapping[int, Sent], lang: str) -> Words:
    found = _INSTRUCTION.match(detail)
    if found is None:
        return Words(label("loop_event", "instruction", lang), detail)
    kind, number, called, rest = found.group(1), int(found.group(2)), found.group(3), found.group(4)
    sent = loop.get(number)
    word = label("instruction_kind", kind, lang)
    if sent is None:  # not readable here (another scope's view): the recipients from the line itself
        pairs = _CALLED.findall(called or "")
        parts = [_called(pairs, names, lang)] if pairs else []
        return Words(word, " · ".join([*parts, *([rest] if rest else [])]))
    parts = []
    if sent.called:
        parts.append("→ " + _called([(c.department_code, c.role) for c in sent.called], names, lang))
    if sent.to_level:
        parts.append(t("act_to_level", lang, level=label("escalation", sent.to_level, lang)))
    if sent.reason:
        parts.append(t("act_loop_reason", lang, reason=sent.reason))
    if sent.text:
        parts.append(sent.text)
    return Words(word, " · ".join(parts))


def _of(number: int, loop: Mapping[int, Sent], lang: str) -> str:
    sent = loop.get(number)
    return t("act_of_instruction", lang, kind=label("instruction_kind", sent.kind, lang)) if sent else ""


def loop_words(
    kind: str, detail: str, names: Mapping[str, str], loop: Mapping[int, Sent], lang: str
) -> Words | None:
    """The words of a loop event; None for any other kind."""
    if kind not in LOOP_KINDS:
        return None
    if kind == "instruction":
        return _instruction(detail.strip(), names, loop, lang)
    if kind == "answer":
        found = _ANSWER.match(detail.strip())
        if found is None:
            return Words(label("loop_event", kind, lang), detail)
        answer, code, number, said = found.group(1), found.group(2), int(found.group(3)), found.group(4) or ""
        if said and answer == "accepted":
            said = t("act_handler", lang, handler=said)
        parts = [names.get(code, code), _of(number, loop, lang), said]
        return Words(label("recipient_state", answer, lang), " · ".join(p for p in parts if p))
    found = _RECIPIENT.match(detail.strip())
    if found is None:
        return Words(label("loop_event", kind, lang), detail)
    code, number, rest = found.group(1), int(found.group(2)), found.group(3) or ""
    attempts = _ATTEMPTS.match(rest)
    if attempts is not None:  # 未送达 after N attempts; the last error as the connector gave it
        rest = " · ".join(
            p for p in (t("act_attempts", lang, n=int(attempts.group(1))), attempts.group(2)) if p
        )
    parts = [names.get(code, code), _of(number, loop, lang), rest]
    return Words(label("loop_event", kind, lang), " · ".join(p for p in parts if p))
