"""The case's loop, as the page shows it: its instructions (交办, 吹哨, 督办 …) and, for each department
it went to, its role, state, delivery, 报到 and last answer — the "指令与报到" card.

:func:`load_loop` reads it through :func:`data.queries.loop.case_loop` with the viewer's scope and passes
every free text (the instruction, the reason, the answers) through the viewer's text mode, like the
timeline's notes."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from dash import html
from sqlalchemy.orm import Session

from data.queries.common import unit_names
from data.queries.loop import case_loop
from data.scope import AreaScope
from data.text import label, local_time

from ..components.format import EMPTY, as_attrs, priority_label
from ..i18n import t
from ..personal import shown

LOOP_ID = "case-loop-box"


@dataclass(frozen=True)
class Called:
    """One department an instruction went to."""

    department_code: str
    role: str
    state: str
    report_by: datetime
    delivered_at: datetime | None
    accepted_at: datetime | None
    handler: str
    last_answer: str  # the last answer's kind and text, e.g. ``progress``: 已到场处置


@dataclass(frozen=True)
class Sent:
    """One instruction, its texts as the viewer may see them."""

    id: int
    kind: str
    text: str
    reason: str
    urgency: str
    limit_hours: int | None
    reply_by: datetime | None
    centre: str  # the acting centre's name (its unit code when unknown)
    to_level: str | None
    actor: str
    at: datetime
    called: tuple[Called, ...]
    last_kinds: tuple[str, ...]  # each called department's last answer kind ("" for none)


def load_loop(session: Session, scope: AreaScope, case_id: int, mode: str) -> list[Sent]:
    views = case_loop(session, scope, case_id)
    centres = unit_names(session, [v.instruction.from_code for v in views])
    out: list[Sent] = []
    for view in views:
        i = view.instruction
        called = tuple(
            Called(
                r.department_code,
                r.role,
                r.state,
                r.report_by,
                r.delivered_at,
                r.accepted_at,
                shown(r.handler, mode),
                shown(r.answers[-1].text, mode) if r.answers else "",
            )  # fmt: skip
            for r in view.recipients
        )
        out.append(
            Sent(
                i.id,
                i.kind,
                shown(i.text, mode),
                shown(i.reason, mode),
                i.urgency,
                i.limit_hours,
                i.reply_by,
                centres.get(i.from_code, i.from_code),
                i.to_level,
                shown(i.actor, mode),
                i.created_at,
                called,
                tuple(r.answers[-1].kind if r.answers else "" for r in view.recipients),
            )  # fmt: skip
        )
    return out


def _when(value: datetime | None, tz: str, lang: str) -> str:
    return local_time(value, tz, lang, "minute", none=EMPTY)


def _terms(sent: Sent, tz: str, lang: str) -> str:
    """The instruction's terms: urgency, time limit, reply deadline, the level it moves the case to."""
    parts = [t("act_loop_urgency", lang, urgency=priority_label(sent.urgency, lang))]
    if sent.limit_hours is not None:
        parts.append(t("act_loop_limit", lang, n=sent.limit_hours))
    if sent.reply_by is not None:
        parts.append(t("act_loop_reply_by", lang, at=_when(sent.reply_by, tz, lang)))
    if sent.to_level:
        parts = [t("act_to_level", lang, level=label("escalation", sent.to_level, lang))]
    return " · ".join(parts)


def _recipients(sent: Sent, names: Mapping[str, str], tz: str, lang: str) -> html.Table:
    head = html.Thead(
        html.Tr(
            [
                html.Th(t(f"act_col_{k}", lang))
                for k in (
                    "department",
                    "role",
                    "state",
                    "report_by",
                    "delivered",
                    "reported",
                    "handler",
                    "answer",
                )
            ]
        )
    )
    rows = [
        html.Tr(
            [
                html.Td(names.get(c.department_code, c.department_code), className="dept"),
                html.Td(label("recipient_role", c.role, lang), className=f"role role-{c.role}"),
                html.Td(
                    html.Span(
                        label("recipient_state", c.state, lang), className=f"loop-state state-{c.state}"
                    ),
                ),
                html.Td(_when(c.report_by, tz, lang), className="time"),
                html.Td(_when(c.delivered_at, tz, lang), className="time delivered"),
                html.Td(_when(c.accepted_at, tz, lang), className="time reported"),
                html.Td(c.handler or EMPTY, className="handler"),
                html.Td(
                    [
                        *(
                            [html.Span(label("recipient_state", kind, lang), className="answer-kind")]
                            if kind
                            else []
                        ),
                        html.Span(c.last_answer, className="answer-text"),
                    ]
                    if kind
                    else EMPTY,
                    className="answer",
                ),
            ],
            className="loop-recipient",
            **as_attrs({"data-department": c.department_code, "data-state": c.state}),
        )
        for c, kind in zip(sent.called, sent.last_kinds, strict=True)
    ]
    return html.Table([head, html.Tbody(rows)], className="loop-recipients")


def loop_card_body(loop: Sequence[Sent], names: Mapping[str, str], tz: str, lang: str) -> html.Div:
    """Each instruction, newest first: kind, from which centre, who, when, its terms and text, and the
    departments called with their state."""
    if not loop:
        return html.Div(t("act_loop_none", lang), className="case-empty")
    items = []
    for sent in reversed(loop):
        head = html.Div(
            [
                html.Span(
                    label("instruction_kind", sent.kind, lang), className=f"loop-kind kind-{sent.kind}"
                ),
                html.Span(_when(sent.at, tz, lang), className="loop-at"),
                html.Span(
                    t("act_loop_from", lang, centre=sent.centre, actor=sent.actor), className="loop-from"
                ),
                html.Span(_terms(sent, tz, lang), className="loop-terms"),
            ],
            className="loop-head",
        )
        texts = [
            *(
                [html.Div(t("act_loop_reason", lang, reason=sent.reason), className="loop-reason")]
                if sent.reason
                else []
            ),
            *([html.Div(sent.text, className="loop-text")] if sent.text else []),
        ]
        items.append(
            html.Div(
                [head, *texts, *([_recipients(sent, names, tz, lang)] if sent.called else [])],
                className="loop-instruction",
                **as_attrs({"data-instruction": str(sent.id), "data-kind": sent.kind}),
            )
        )
    return html.Div(items, className="loop-list")


def loop_card(loop: Sequence[Sent], names: Mapping[str, str], tz: str, lang: str) -> html.Div:
    return html.Div(
        [html.H2(t("act_loop_title", lang)), html.Div(loop_card_body(loop, names, tz, lang), id=LOOP_ID)],
        className="case-card case-loop",
    )
