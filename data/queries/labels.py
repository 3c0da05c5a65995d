"""Display labels for the codes the queries return (zh-CN default, English available).

Rows carry both the code (for the UI to translate or style) and the zh-CN label; :func:`label` gives
any label in either language.
"""

from __future__ import annotations

from ..states import LABELS as STATUS_LABELS

DASH = "—"  # shown for a rate whose denominator is zero

_TABLES: dict[str, dict[str, dict[str, str]]] = {
    "status": STATUS_LABELS,
    "escalation": {
        "zh-CN": {"community": "社区", "street": "街道", "district": "区"},
        "en": {"community": "Community", "street": "Street", "district": "District"},
    },
    "supervision": {
        "zh-CN": {"none": "", "yellow": "黄牌", "red": "红牌"},
        "en": {"none": "", "yellow": "Yellow card", "red": "Red card"},
    },
    "satisfaction": {
        "zh-CN": {"satisfied": "满意", "basic": "基本满意", "unsatisfied": "不满意"},
        "en": {"satisfied": "Satisfied", "basic": "Basically satisfied", "unsatisfied": "Unsatisfied"},
    },
    "level": {
        "zh-CN": {"district": "区县", "street": "镇街", "community": "村社区", "grid": "网格"},
        "en": {"district": "District", "street": "Street/town", "community": "Community", "grid": "Grid"},
    },
    "staff_role": {
        "zh-CN": {"grid_worker": "网格员", "grid_chief": "网格长", "party_branch": "网格党支部"},
        "en": {"grid_worker": "Grid worker", "grid_chief": "Grid chief", "party_branch": "Party branch"},
    },
    "colour": {
        "zh-CN": {"blue": "蓝色", "yellow": "黄色", "orange": "橙色", "red": "红色"},
        "en": {"blue": "Blue", "yellow": "Yellow", "orange": "Orange", "red": "Red"},
    },
    "alert_state": {
        "zh-CN": {
            "new": "未确认",
            "acknowledged": "已确认",
            "linked": "已关联案件",
            "dismissed": "已排除",
            "expired": "已过期",
            "cancelled": "已撤销",
        },
        "en": {
            "new": "New",
            "acknowledged": "Acknowledged",
            "linked": "Linked to a case",
            "dismissed": "Dismissed",
            "expired": "Expired",
            "cancelled": "Cancelled",
        },
    },
    "alert_event": {
        "zh-CN": {
            "created": "发布",
            "updated": "更新",
            "raised": "级别升高",
            "acknowledged": "已确认",
            "escalated": "超时未确认，已升级",
            "expired": "已过期",
            "cancelled": "已撤销",
        },
        "en": {
            "created": "Issued",
            "updated": "Updated",
            "raised": "Level raised",
            "acknowledged": "Acknowledged",
            "escalated": "Escalated: not acknowledged in time",
            "expired": "Expired",
            "cancelled": "Cancelled",
        },
    },
    "audit_action": {  # the actions added with the roster, the risk ledger and the loop (others: /audit)
        "zh-CN": {
            "staff_load": "导入网格力量名册",
            "risks_load": "导入风险台账",
            "risk_add": "新增风险",
            "risk_edit": "修改风险",
            "risk_assign": "变更风险责任人",
            "risk_close": "风险销号",
            "loop_dispatch": "交办",
            "loop_redispatch": "转办",
            "loop_whistle": "吹哨",
            "loop_report_up": "上报",
            "loop_send_down": "下派",
            "loop_supervise": "督办指令",
            "loop_answer": "部门回复",
            "loop_answer_refused": "拒收部门回复",
            "loop_resend": "重新发送指令",
        },
        "en": {
            "staff_load": "Roster loaded",
            "risks_load": "Risk ledger loaded",
            "risk_add": "Risk added",
            "risk_edit": "Risk edited",
            "risk_assign": "Risk reassigned",
            "risk_close": "Risk closed",
            "loop_dispatch": "Dispatched",
            "loop_redispatch": "Re-dispatched",
            "loop_whistle": "Whistle",
            "loop_report_up": "Reported up",
            "loop_send_down": "Sent down",
            "loop_supervise": "Supervision instruction",
            "loop_answer": "Department's answer",
            "loop_answer_refused": "Department's answer refused",
            "loop_resend": "Instruction sent again",
        },
    },
    "alert_kind": {
        "zh-CN": {
            "weather": "气象预警",
            "fence": "电子围栏",
            "noise": "噪声监测",
            "landslide": "地灾监测",
            "smoke": "烟感火警",
            "thermal": "热成像",
        },
        "en": {
            "weather": "Weather warning",
            "fence": "Electronic fence",
            "noise": "Noise monitor",
            "landslide": "Landslide monitor",
            "smoke": "Smoke/fire sensor",
            "thermal": "Thermal camera",
        },
    },
    "risk_kind": {
        "zh-CN": {
            "political": "政治安全",
            "public_order": "社会治安",
            "social_conflict": "社会矛盾",
            "public_safety": "公共安全",
            "cyber": "网络安全",
        },
        "en": {
            "political": "Political security",
            "public_order": "Public order",
            "social_conflict": "Social conflict",
            "public_safety": "Public safety",
            "cyber": "Cyber security",
        },
    },
    "risk_level": {
        "zh-CN": {"high": "高", "medium": "中", "low": "低"},
        "en": {"high": "High", "medium": "Medium", "low": "Low"},
    },
    "feed_status": {
        "zh-CN": {
            "ok": "正常",
            "stale": "数据过期",
            "failing": "出错",
            "never": "未接入",
            "disabled": "已停用",
            "paused": "已暂停",
        },
        "en": {
            "ok": "OK",
            "stale": "Stale",
            "failing": "Failing",
            "never": "Never polled",
            "disabled": "Disabled",
            "paused": "Paused",
        },
    },
    "trend": {
        "zh-CN": {"up": "上升", "down": "下降", "flat": "持平"},
        "en": {"up": "Rising", "down": "Falling", "flat": "Steady"},
    },
    # the loop (data.loop): instructions, their recipients' states and roles, the timeline's lines
    "instruction_kind": {
        "zh-CN": {
            "dispatch": "交办",
            "redispatch": "转办",
            "whistle": "吹哨",
            "report_up": "上报",
            "send_down": "下派",
            "supervise": "督办",
        },
        "en": {
            "dispatch": "Dispatch",
            "redispatch": "Re-dispatch",
            "whistle": "Whistle",
            "report_up": "Report up",
            "send_down": "Send down",
            "supervise": "Supervise",
        },
    },
    "recipient_state": {
        "zh-CN": {
            "pending": "待送达",
            "delivered": "已送达",
            "accepted": "已报到",
            "refused": "已退回",
            "progress": "办理中",
            "done": "已办结",
            "undelivered": "未送达",
            "overdue": "超时未报到",
        },
        "en": {
            "pending": "Sending",
            "delivered": "Delivered",
            "accepted": "Reported (accepted)",
            "refused": "Refused",
            "progress": "In progress",
            "done": "Done",
            "undelivered": "Undelivered",
            "overdue": "Not reported in time",
        },
    },
    "recipient_role": {
        "zh-CN": {"sole": "承办", "lead": "牵头", "helper": "协办"},
        "en": {"sole": "Handling", "lead": "Lead", "helper": "Helping"},
    },
    "loop_event": {
        "zh-CN": {
            "instruction": "指令",
            "delivered": "已送达",
            "undelivered": "未送达",
            "resend": "重新发送",
            "answer": "部门回复",
            "report_overdue": "超时未报到",
        },
        "en": {
            "instruction": "Instruction",
            "delivered": "Delivered",
            "undelivered": "Undelivered",
            "resend": "Sent again",
            "answer": "Department's answer",
            "report_overdue": "Not reported in time",
        },
    },
}

KINDS = tuple(_TABLES)


def label(kind: str, code: str | None, lang: str = "zh-CN") -> str:
    """The label of ``code`` in table ``kind`` (a key of :data:`KINDS`); the code itself when unknown."""
    if code is None:
        return ""
    table = _TABLES[kind].get(lang) or _TABLES[kind]["zh-CN"]
    return table.get(code, code)


def format_rate(rate: float | None, digits: int = 1) -> str:
    """98.8 % style; ``—`` when the rate is undefined (zero denominator)."""
    if rate is None:
        return DASH
    return f"{rate * 100:.{digits}f}%"
