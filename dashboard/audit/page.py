"""``/audit``: the audit log for administrators — sign-ins and failures, account changes, supervision
cards, alert acknowledgements, views of personal data — newest first, filtered from the URL
(``?actor=…&action=…&limit=…``). Every value is shown as text. Other viewers see a refusal only.
"""

from __future__ import annotations

from typing import Any

from dash import html

from data.auth import ACTIONS, Permission, audit_rows, may
from data.models import AuditLog

from ..auth import current_user
from ..components.chrome import lang_switch, top_bar
from ..page import Page, PageContext

DEFAULT_LIMIT = 200
MAX_LIMIT = 2000

STRINGS: dict[str, dict[str, Any]] = {
    "zh-CN": {
        "title": "审计日志",
        "back": "← 返回总览",
        "denied": "只有管理员可以查看审计日志。",
        "empty": "没有符合条件的记录。",
        "count": "最近 {n} 条",
        "cols": ("时间", "操作人", "操作", "对象", "详情", "来源地址"),
    },
    "en": {
        "title": "Audit log",
        "back": "← Back to the wall",
        "denied": "Only administrators may read the audit log.",
        "empty": "No entries match.",
        "count": "Newest {n}",
        "cols": ("Time", "Actor", "Action", "Target", "Detail", "From"),
    },
}

ACTION_LABELS = {
    "signin": ("登录", "Signed in"),
    "signin_failed": ("登录失败", "Sign-in failed"),
    "signout": ("退出", "Signed out"),
    "user_add": ("新建账号", "Account added"),
    "user_disable": ("停用账号", "Account disabled"),
    "user_enable": ("启用账号", "Account enabled"),
    "user_password": ("重设密码", "Password set"),
    "user_role": ("变更角色", "Role changed"),
    "user_scope": ("变更范围", "Scope changed"),
    "wall_link": ("生成大屏链接", "Wall link made"),
    "wall_link_revoke": ("撤销大屏链接", "Wall link revoked"),
    "supervise": ("督办", "Supervision card"),
    "supervise_cancel": ("撤销督办", "Supervision cancelled"),
    "alert_ack": ("确认预警", "Alert acknowledged"),
    "personal_view": ("查看个人信息", "Personal data viewed"),
    "export": ("导出", "Export"),
    "export_refused": ("拒绝导出", "Export refused"),
    "feed_change": ("数据源变更", "Feed changed"),
}

# Targets that are a place in the app rather than a record: named for people, the raw value kept beside.
TARGET_LABELS = {
    "layer:alerts.json": ("地图预警图层", "Map alerts layer"),
}


def _limit(value: str | None) -> int:
    try:
        return max(1, min(MAX_LIMIT, int(value or DEFAULT_LIMIT)))
    except ValueError:
        return DEFAULT_LIMIT


def action_label(action: str, lang: str) -> str:
    pair = ACTION_LABELS.get(action)
    return (pair[0] if lang == "zh-CN" else pair[1]) if pair else action


def target_cell(target: str, lang: str) -> html.Td:
    pair = TARGET_LABELS.get(target)
    if pair is None:
        return html.Td(target, className="target")
    label = pair[0] if lang == "zh-CN" else pair[1]
    return html.Td(
        [html.Span(label, className="target-label"), " ", html.Span(target, className="target-raw")],
        className="target",
        title=target,
    )


def audit_table(rows: list[AuditLog], lang: str, tz: Any) -> html.Table:
    cols = STRINGS[lang]["cols"]
    return html.Table(
        [
            html.Thead(html.Tr([html.Th(c) for c in cols])),
            html.Tbody(
                [
                    html.Tr(
                        [
                            html.Td(r.at.astimezone(tz).strftime("%Y-%m-%d %H:%M:%S"), className="at"),
                            html.Td(r.actor, className="actor"),
                            html.Td(action_label(r.action, lang), className="action", title=r.action),
                            target_cell(r.target, lang),
                            html.Td(r.detail, className="detail"),
                            html.Td(r.remote_addr, className="addr"),
                        ],
                        className=f"audit-row audit-{r.action}" if r.action in ACTIONS else "audit-row",
                    )
                    for r in rows
                ]
            ),
        ],
        className="feeds-table audit-table",
    )


def layout(ctx: PageContext) -> Any:
    s = STRINGS[ctx.lang if ctx.lang in STRINGS else "zh-CN"]
    lang = ctx.lang if ctx.lang in STRINGS else "zh-CN"
    bar = top_bar(
        s["title"],
        lang,
        ctx.urls.wall(),
        "back_to_wall",
        lang_switch(ctx.base_path, "/audit", ctx.query, lang),
    )
    user = current_user()
    if user is None or not may(user.role, Permission.VIEW_AUDIT):
        body: Any = html.P(s["denied"], className="audit-denied")
    else:
        with ctx.services.sessions() as session:
            rows = audit_rows(
                session,
                actor=ctx.query.get("actor") or None,
                action=ctx.query.get("action") or None,
                limit=_limit(ctx.query.get("limit")),
            )
        body = [
            html.P(s["count"].format(n=len(rows)), className="audit-count"),
            audit_table(rows, lang, ctx.settings.tz) if rows else html.P(s["empty"], className="audit-empty"),
        ]
    return html.Div([bar, html.Div(body, id="audit-content")], className="gridcc-page audit-page")


PAGE = Page(path="/audit", name="audit", title_key="audit_title", layout=layout)
