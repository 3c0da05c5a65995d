"""``/cases/<id>``: one case — its facts, its place on a small map, its grid's people, its timeline (the
loop's lines in words), its instructions and their 报到 (the "指令与报到" card), for a duty officer or a
leader the action panel (:mod:`dashboard.act`, 交办 … 督办, anchored at ``#act``), and for a leader the
督办 cards. The timeline and the card are read again after an action and every few seconds.

The case is read through :func:`data.queries.case_detail` with the viewer's scope: a case outside it
(or unknown) shows "not found" and nothing of its data. Phones and the reporter's email: unmasked only
to a role that needs them (each such view is audited as ``personal_view``), masked for others, and left
out altogether — with the reporter — for a wall account. The reporter's photo link (Open311
``media_url``) is shown to a signed-in account that acts on cases (:func:`media_visible`), never to a
wall or with nobody signed in: a photo can show a person.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from dash import dcc, html
from flask import request
from sqlalchemy import select
from sqlalchemy.orm import Session

from data.auth import Permission, audit, may
from data.db import transaction
from data.masking import has_personal
from data.models import Category
from data.queries import CaseDetail, case_detail
from data.text import pick

from ..act.choices import act_case, department_choices, viewer_kinds
from ..act.panel import action_form, case_panel, done_store
from ..auth import current_user, phone_view, viewer_name
from ..components import follow
from ..components.chrome import lang_switch, top_bar
from ..components.format import data_attrs
from ..i18n import t
from ..page import Page, PageContext
from ..personal import CASE_TEXT, masked_fields, masked_rows
from .actions import OPEN
from .actions import register as register_actions
from .alert_link import alert_links
from .facts import Names, badges, facts, place_path, staff, text_block
from .loop import load_loop, loop_card
from .map import case_map
from .merge import merge_line
from .merge import register as register_merge
from .refresh import CASE_ID, FOLLOW, FOLLOW_PREFIX, SEEN_ID, register_refresh, signature
from .sources import source_names
from .supervise import TIMELINE_ID, supervise_panel
from .timeline import timeline


def _case_id(raw: str | None) -> int | None:
    if raw is None or not raw.isdecimal() or len(raw) > 12:
        return None
    return int(raw)


def _names(session: Session, detail: CaseDetail, lang: str) -> Names:
    row = detail.row
    sources = source_names(session, lang)  # department codes → names in the page's language
    category_en = dict(session.execute(select(Category.code, Category.name_en)).tuples().all())
    parent = session.scalar(select(Category.parent_code).where(Category.code == row.category_code))
    category = pick(lang, row.category_name, category_en.get(row.category_code or "")) or t(
        "uncategorised", lang
    )
    top = pick(lang, row.top_category_name, category_en.get(parent or row.category_code or ""))
    department = sources.get(row.department_code or "") or row.department_name
    return Names(category, top, department, sources)


def free_text(detail: CaseDetail, policy: str) -> CaseDetail:
    """The detail's free texts (title, description, address, the feed's category and status, the
    reporter's name, timeline notes) with their phones and ID numbers as ``policy`` says
    (:func:`data.masking.mask_personal_text`; invisible controls out in every mode)."""
    return replace(
        masked_fields(
            detail, ("description", "category_name_from_feed", "source_status", "reporter_name"), policy
        ),
        row=masked_fields(detail.row, CASE_TEXT, policy),
        events=masked_rows(detail.events, ("detail", "actor"), policy),
    )


def media_visible() -> bool:
    """Whether the reporter's photo link goes to this viewer: a signed-in account that acts on cases
    (duty officer, leader); not a wall, an admin, or anybody while sign-in is off."""
    user = current_user()
    return user is not None and may(user.role, Permission.ACT_ON_CASE)


def personal(ctx: PageContext, detail: CaseDetail, policy: str) -> CaseDetail:
    """The detail as this viewer may get it: with ``"none"`` (a wall) no phone and no reporter at all;
    with ``"full"`` an audit row says who saw whose phones, when, from where. Free text as
    :func:`free_text` makes it; the photo link only where :func:`media_visible`."""
    detail = free_text(detail, policy)
    if not media_visible():
        detail = replace(detail, media_url="")
    if policy == "none":
        staff = [replace(s, phone="") for s in detail.staff]
        return replace(detail, staff=staff, reporter_name="", reporter_phone="", reporter_email="")
    in_text = has_personal(" ".join((detail.description, detail.row.title, detail.row.address)))
    reporter = bool(detail.reporter_phone or detail.reporter_email)
    if policy == "full" and (reporter or in_text or any(s.phone for s in detail.staff)):
        what = ", ".join(
            w
            for w, shown in (
                ("grid staff phones", any(s.phone for s in detail.staff)),
                ("reporter", reporter),
                ("phones or ID numbers in the case text", in_text),
            )
            if shown
        )
        with transaction(ctx.services.sessions) as session:
            audit(
                session,
                viewer_name(),
                "personal_view",
                f"case:{detail.row.id}",
                what,
                request.remote_addr or "",
                datetime.now(UTC),
            )
    return detail


def approx_note(detail: CaseDetail, lang: str) -> html.Div | None:
    """Under the small map, for a case without a point of its own that the map shows by its unit's
    outline: which unit that is (grid, community, street), so nobody takes the outline for the spot."""
    row = detail.row
    if (row.lon is not None and row.lat is not None) or detail.grid_geometry is None or not detail.units:
        return None
    level = detail.units[-1].level  # the most specific unit known: the one whose outline is drawn
    unit = t(f"level_{level}", lang).lower()  # in a sentence (English words lower-cased; Chinese has no case)
    return html.Div(t("case_map_approx", lang, unit=unit), className=f"case-map-approx approx-{level}")


def not_found(ctx: PageContext, raw_id: str) -> html.Div:
    path = f"/cases/{raw_id}"
    switch = lang_switch(ctx.base_path, path, ctx.query, ctx.lang)
    back = ctx.urls.wall()
    return html.Div(
        [
            top_bar(t("case_not_found", ctx.lang), ctx.lang, back, "back_to_wall", switch),
            html.Div(
                html.P(t("case_not_found_hint", ctx.lang, id=raw_id[:20]), className="case-not-found-text"),
                className="case-not-found",
            ),
        ],
        className="gridcc-page case-page",
    )


def layout(ctx: PageContext) -> Any:
    raw_id = ctx.path_params.get("id", "")
    case_id = _case_id(raw_id)
    if case_id is None:
        return not_found(ctx, raw_id)
    now = datetime.now(UTC)
    tz = ctx.settings.timezone
    policy = phone_view()
    with ctx.services.sessions() as session:
        found = case_detail(session, ctx.scope, case_id, viewer_may_see_personal=policy == "full", now=now)
        if found is None:
            return not_found(ctx, raw_id)
        names = _names(session, found, ctx.lang)
        loop = load_loop(session, ctx.scope, case_id, policy)
        act = act_panel(ctx, session, case_id)
        linked = alert_links(session, case_id, ctx.lang, policy)  # the alert it was made from, if any
        merged = merge_line(session, case_id, ctx.urls, ctx.lang)  # 合并: one matter, several channels
    detail = personal(ctx, found, policy)
    events = timeline(detail.events, ctx.lang, tz, names.sources, loop)
    row = detail.row
    panel = supervise_panel(case_id, row.supervision, row.status in OPEN, ctx.lang)
    path = f"/cases/{case_id}"
    title = [
        html.Span(t("case_title", ctx.lang, id=case_id), className="case-no"),
        html.Span(names.category, className="case-category"),
        *badges(detail, ctx.lang),
    ]
    back = ctx.urls.wall()
    return html.Div(
        [
            top_bar(
                title, ctx.lang, back, "back_to_wall", lang_switch(ctx.base_path, path, ctx.query, ctx.lang)
            ),
            html.Div(
                [
                    html.Div(
                        [
                            facts(detail, names, now, ctx.lang, tz),
                            *([linked] if linked is not None else []),
                            *([merged] if merged is not None else []),
                            text_block(detail, ctx.lang),
                            html.Div(
                                [
                                    html.H2(t("case_timeline", ctx.lang)),
                                    html.Div(events, id=TIMELINE_ID),
                                ],
                                className="case-card",
                            ),
                            loop_card(loop, names.sources, tz, ctx.lang),
                            *([panel] if panel is not None else []),
                        ],
                        className="case-main",
                    ),
                    html.Div(
                        [
                            *([act] if act is not None else []),
                            case_map(detail, ctx.lang, ctx.settings.tile_url),
                            *([note] if (note := approx_note(detail, ctx.lang)) is not None else []),
                            html.Div(
                                [place_path(detail, ctx.base_path, ctx.lang), staff(detail, ctx.lang)],
                                className="case-card case-where",
                            ),
                        ],
                        className="case-side",
                    ),
                ],
                className="case-body",
                **data_attrs(case_id=str(row.id)),
            ),
            done_store(),
            dcc.Store(id=CASE_ID, data=case_id),
            dcc.Store(id=SEEN_ID, data=signature(len(detail.events), loop)),
            *follow.parts(FOLLOW_PREFIX, ctx.services, ctx.urls.api("versions"), ctx.base_path, FOLLOW),
        ],
        className="gridcc-page case-page",
    )


def act_panel(ctx: PageContext, session: Session, case_id: int) -> html.Div | None:
    """The action panel for a viewer who may act (a duty officer, a leader); None for anyone else."""
    kinds = viewer_kinds()
    if not kinds:
        return None
    case = act_case(session, ctx.scope, case_id)
    if case is None:
        return None
    form = action_form(case, kinds, department_choices(session, ctx.lang), ctx.settings, ctx.lang)
    return case_panel(form, ctx.lang)


def register(app: Any) -> None:
    register_actions(app)
    register_refresh(app)
    register_merge(app)


PAGE = Page(path="/cases/<id>", name="case", title_key="case_no", layout=layout, register=register)
