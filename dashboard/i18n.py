"""UI text: zh-CN by default, English available (``?lang=en``). Case state labels come from
:data:`data.states.LABELS`."""

from __future__ import annotations

from collections.abc import Mapping

from data.states import LABELS as STATE_LABELS

LANGUAGES = ("zh-CN", "en")
DEFAULT = "zh-CN"

STRINGS: dict[str, tuple[str, str]] = {
    # key: (zh-CN, en)
    "app_title": ("网格化社会治理指挥中心", "Grid Governance Command Centre"),
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
    # a case without a point of its own, drawn at its grid's / community's label point (layers.case_place)
    "approx_grid": ("按网格定位", "Located by grid"),
    "approx_community": ("按社区定位", "Located by community"),
    "approx_grid_note": ("所在网格的中心点，非案件精确位置", "The grid's centre, not the case's own point"),
    "approx_community_note": (
        "所在社区的中心点，非案件精确位置",
        "The community's centre, not the case's own point",
    ),
    "location": ("位置", "Location"),
    "legend_approx": ("按网格/社区定位（位置近似）", "Located by grid / community (approximate)"),
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


# ------------------------------------------------------------------------------------------------
# Case page (/cases/<id>) and feeds page (/feeds) — owned by the case/feeds screens. Added after
# JS_KEYS on purpose: the map's JavaScript does not need these.
STRINGS.update(
    {
        "lang_zh": ("中文", "中文"),
        "lang_en": ("English", "English"),
        "back": ("← 返回", "← Back"),
        "back_to_wall": ("← 返回总览", "← Back to the wall"),
        "case_title": ("案件 {id}", "Case {id}"),
        "case_not_found": ("未找到该案件", "Case not found"),
        "case_not_found_hint": (
            "案件 {id} 不存在，或不在您的管辖范围内。",
            "Case {id} does not exist or is outside your area.",
        ),
        "case_number": ("案件编号", "Case number"),
        "case_source": ("来源", "Source"),
        "case_priority": ("紧急程度", "Priority"),
        "priority_urgent": ("紧急", "Urgent"),
        "priority_normal": ("一般", "Normal"),
        "priority_complex": ("复杂", "Complex"),
        "case_department": ("承办部门", "Department"),
        "case_reported_at": ("上报时间", "Reported"),
        "case_accepted_at": ("受理时间", "Accepted"),
        "case_deadline_at": ("办理时限", "Deadline"),
        "case_resolved_at": ("办结时间", "Resolved"),
        "case_closed_at": ("归档时间", "Closed"),
        "case_hours_late": ("已超期 {h}", "{h} overdue"),
        "case_hours_left": ("剩余 {h}", "{h} left"),
        "case_no_deadline": ("无时限", "No deadline"),
        "case_done_on_time": ("按期办结", "Closed on time"),
        "case_done_late": ("超期办结", "Closed late"),
        "case_level": ("办理层级", "Held at"),
        "case_supervision": ("督办", "Supervision"),
        "case_supervision_none": ("无", "None"),
        "case_satisfaction": ("满意度", "Satisfaction"),
        "case_not_rated": ("未回访", "Not rated"),
        "case_description": ("诉求内容", "Description"),
        "case_address": ("事发地址", "Address"),
        "case_reporter": ("反映人", "Reporter"),
        "case_place": ("所在位置", "Place"),
        "case_unplaced": (
            "未定位：该案件没有坐标，也未能匹配到网格",
            "Not placed: no coordinates and no grid",
        ),
        "case_map_approx": (
            "按{unit}定位：该案件没有自己的坐标，地图所示为所在{unit}的范围",
            "Located by {unit}: the case has no point of its own; the map shows its {unit}'s outline",
        ),
        "case_grid_staff": ("网格力量", "Grid staff"),
        "case_no_staff": ("该网格暂无登记人员", "No staff registered for this grid"),
        "case_no_grid": ("未定位到网格，无网格员信息", "Not placed in a grid: no grid staff to show"),
        "case_path": ("属地", "Where"),
        "level_grid": ("网格", "Grid"),
        "case_timeline": ("办理过程", "Timeline"),
        "case_no_events": ("暂无记录", "No events yet"),
        "col_time": ("时间", "Time"),
        "col_event": ("事件", "Event"),
        "col_change": ("状态", "State"),
        "col_detail": ("说明", "Detail"),
        "col_feed": ("来源", "Feed"),
        "col_actor": ("操作", "By"),
        "event_created": ("创建", "Created"),
        "event_status": ("状态变更", "State change"),
        "event_illegal_transition": ("非法状态变更（已拒绝）", "Illegal state change (rejected)"),
        "event_due_soon": ("临期", "Due soon"),
        "event_overdue": ("超期", "Overdue"),
        "event_supervision_yellow": ("黄牌督办", "Yellow card"),
        "event_supervision_red": ("红牌督办", "Red card"),
        "event_escalation": ("升级", "Escalated"),
        "event_update": ("信息更新", "Updated"),
        "event_note": ("备注", "Note"),
        "actor_system": ("系统", "System"),
        "hours": ("{n} 小时", "{n} h"),
        "days_hours": ("{d} 天 {h} 小时", "{d} d {h} h"),
        "feeds_title": ("数据接入状态", "Feeds and workers"),
        "feeds_as_of": ("数据时间 {t}", "As of {t}"),
        "feeds_summary": (
            "共 {n} 路接入 · 正常 {ok} · 滞后 {stale} · 故障 {failing} · 未轮询 {never}",
            "{n} feeds · {ok} OK · {stale} stale · {failing} failing · {never} never polled",
        ),
        "feeds_health": ("部门数据接入", "Department feeds"),
        "feed_status_ok": ("正常", "OK"),
        "feed_status_stale": ("滞后", "Stale"),
        "feed_status_failing": ("故障", "Failing"),
        "feed_status_never": ("未轮询", "Never polled"),
        "feed_status_disabled": ("已停用", "Disabled"),
        "feed_status_paused": ("已暂停", "Paused"),
        "col_feed_action": ("操作", "Action"),
        "feed_pause": ("暂停", "Pause"),
        "feed_resume": ("恢复", "Resume"),
        "feed_paused_by": ("{who} 暂停于 {at}", "paused by {who} at {at}"),
        "feed_change_refused": (
            "只有管理员可以暂停或恢复数据接入。",
            "Only administrators may pause or resume a feed.",
        ),
        "feed_change_missing": ("没有这个数据接入：{feed}", "No such feed: {feed}"),
        "feed_change_paused": (
            "已暂停 {feed}：不再轮询，直到恢复。",
            "Paused {feed}: not polled until resumed.",
        ),
        "feed_change_resumed": (
            "已恢复 {feed}：下一轮起照常轮询。",
            "Resumed {feed}: polled again from its next turn.",
        ),
        "col_feed_name": ("接入名称", "Feed"),
        "col_department": ("部门", "Department"),
        "col_protocol": ("协议", "Protocol"),
        "col_status": ("状态", "Status"),
        "col_last_success": ("最近成功", "Last success"),
        "col_since_success": ("距上次成功", "Since success"),
        "col_record_age": ("最新记录距今", "Newest record age"),
        "col_received": ("接收", "Received"),
        "col_new": ("新增", "New"),
        "col_updated": ("更新", "Updated"),
        "col_ignored": ("忽略", "Ignored"),
        "col_quarantined": ("隔离", "Quarantined"),
        "col_last_error": ("最近错误", "Last error"),
        "never": ("从未", "Never"),
        "seconds": ("{n} 秒", "{n} s"),
        "minutes": ("{n} 分钟", "{n} min"),
        "feeds_queues": ("任务队列", "Queues"),
        "feeds_workers": ("后台进程", "Workers"),
        "col_queue": ("队列", "Queue"),
        "col_queued": ("排队", "Queued"),
        "col_started": ("执行中", "Started"),
        "col_failed": ("失败", "Failed"),
        "col_worker": ("进程", "Worker"),
        "col_state": ("状态", "State"),
        "col_current_job": ("当前任务", "Current job"),
        "col_successful": ("成功", "Successful"),
        "worker_busy": ("工作中", "Busy"),
        "worker_idle": ("空闲", "Idle"),
        "worker_suspended": ("已暂停", "Suspended"),
        "worker_started": ("启动中", "Starting"),
        "redis_down": ("无法连接 Redis：{error}", "Redis unavailable: {error}"),
        "no_queues": ("暂无队列", "No queues"),
        "no_workers": ("没有运行中的后台进程", "No workers running"),
        "feeds_quarantine": ("隔离记录（最新在前）", "Quarantined records (newest first)"),
        "no_quarantine": ("暂无隔离记录", "Nothing quarantined"),
        "col_reason": ("原因", "Reason"),
        "col_external_id": ("原始编号", "External id"),
        "col_payload": ("原始数据", "Raw payload"),
        "payload_chars": ("共 {n} 字符", "{n} characters"),
        "payload_show": ("查看", "View"),
        "payload_title": ("隔离记录 {id} · {feed} · {at}", "Quarantined record {id} · {feed} · {at}"),
        "payload_raw": (
            "原始数据（含个人信息，本次查看已记入审计日志）",
            "As received (personal data included; this view is in the audit log)",
        ),
        "payload_masked": (
            "电话、身份证号已脱敏，密钥已隐去",
            "Phones and ID numbers masked, keys removed",
        ),
        "payload_refused": ("无权查看隔离数据", "You may not view quarantined records"),
        "payload_missing": ("隔离记录 {id} 已不存在", "Quarantined record {id} no longer exists"),
        "feeds_area_only": (
            "仅显示与本辖区有关的数据源；隔离记录与后台进程仅对全辖区值班员和管理员显示",
            "Only the feeds that concern your area; quarantined records and workers are shown to "
            "duty officers of the whole deployment and to admins",
        ),
        "feeds_health_only": (
            "隔离记录与后台进程仅对全辖区值班员和管理员显示",
            "Quarantined records and workers are shown to duty officers of the whole deployment "
            "and to admins",
        ),
        "payload_cut": ("（仅显示前 {n} 字符）", "(first {n} characters only)"),
        "no_feeds": ("尚未配置数据接入", "No feeds configured"),
    }
)


# ---------------------------------------------------------------- the wall (/) — dashboard/wall/
# Kept out of STRINGS' literal (and so out of the map's JS_KEYS): the wall's text is rendered server-side.
STRINGS.update(
    {
        "wall_title": ("{name} · 网格化社会治理指挥中心", "{name} · Grid Governance Command Centre"),
        "wall_today": ("今日", "Today"),
        "wall_year": ("本年", "This year"),
        "wall_now": ("当前", "Now"),
        "wall_kpi_received": ("受理", "Received"),
        "wall_kpi_closure_rate": ("办结率", "Closure rate"),
        "wall_kpi_on_time_rate": ("按期办结率", "On-time rate"),
        "wall_kpi_satisfaction_rate": ("满意率", "Satisfaction"),
        "wall_kpi_open": ("在办", "Open"),
        "wall_kpi_overdue": ("超期", "Overdue"),
        "wall_chart_categories": ("案件类别 · 近30天", "Cases by category · 30 days"),
        "wall_chart_trend": ("受理与办结 · 近30天", "Received vs closed · 30 days"),
        "wall_series_received": ("受理", "Received"),
        "wall_series_closed": ("办结", "Closed"),
        "wall_chart_streets": ("镇街排名 · 超期件数（办结率）", "Streets · overdue (closure rate)"),
        "wall_chart_departments": ("部门平均响应时长", "Department mean response time"),
        "wall_hours": ("小时", "h"),
        "wall_hotspots_title": ("类案热点 · 近30天", "Recurring hotspots · 30 days"),
        "wall_hotspots_none": ("暂无类案", "No recurring hotspots"),
        "wall_ticker_title": ("实时预警", "Live alerts"),
        "wall_ticker_none": ("暂无生效预警", "No active alerts"),
        "wall_ticker_count": ("{n} 条 · 未确认 {new}", "{n} · {new} unacknowledged"),
        "wall_banner_bad": ("数据源异常", "Feed problem"),
        "wall_banner_ok": ("{n} 路数据源正常", "{n} feeds OK"),
        "wall_banner_down": ("数据中断 · 画面已停止更新", "Data stopped · this screen is not updating"),
        "wall_feed_last_ok": ("最后成功 {time}", "last OK {time}"),
        "wall_feed_never_ok": ("从未成功", "never OK"),
        "wall_as_of": ("数据截至", "Data as of"),
        "wall_no_data": ("暂无数据", "No data"),
    }
)

# ---------------------------------------------------------------- duty (/duty) and overdue (/overdue)
# dashboard/duty/, dashboard/overdue/: rendered server-side, so not in the map's JS_KEYS.
STRINGS.update(
    {
        "duty_title": ("值班台", "Duty desk"),
        "duty_street": ("镇街", "Street/town"),
        "duty_all_streets": ("全部镇街", "All streets"),
        "duty_category": ("类别", "Category"),
        "duty_all_categories": ("全部类别", "All categories"),
        "duty_department": ("承办部门", "Department"),
        "duty_all_departments": ("全部部门", "All departments"),
        "duty_status": ("状态", "Status"),
        "duty_all_statuses": ("全部在办状态", "All open states"),
        "duty_period": ("受理时段", "Received"),
        "duty_period_all": ("全部", "All"),
        "duty_period_today": ("今日", "Today"),
        "duty_period_7d": ("近7天", "7 days"),
        "duty_period_30d": ("近30天", "30 days"),
        "duty_period_year": ("本年", "This year"),
        "duty_cases": ("在办案件", "Open cases"),
        "duty_export": ("导出", "Export"),
        "duty_export_title": (
            "按当前筛选导出在办案件（CSV，Excel 可直接打开）",
            "Export the open cases of this view (CSV, opens in Excel)",
        ),
        "duty_count": ("{n} 件 · 超期 {late} 件", "{n} · {late} overdue"),
        "duty_alerts": ("预警", "Alerts"),
        "duty_alerts_count": ("{n} 条 · 未确认 {new} 条", "{n} · {new} unacknowledged"),
        "duty_no_alerts": ("该范围内暂无生效预警", "No active alerts here"),
        "duty_ack": ("确认", "Acknowledge"),
        "duty_acked": ("已确认", "Acknowledged"),
        "duty_ack_refused": (
            "无法确认：预警不存在、已确认或不在管辖范围内",
            "Not acknowledged: missing, done, or outside your area",
        ),
        "duty_actor": ("值班员", "Duty officer"),
        "duty_more_grids": ("等 {n} 个网格", " and more ({n} grids)"),
        "duty_pick_case": (
            "点选表格中的一行，在地图上定位该案件",
            "Select a row to find the case on the map",
        ),
        "duty_selected": ("已选案件", "Selected"),
        "duty_unplaced": ("该案件未定位，地图上无法显示", "This case has no place on the map"),
        "duty_approx_grid": (
            "按网格定位：地图所示为所在网格的中心",
            "Located by grid: the map shows its grid's centre",
        ),
        "duty_approx_community": (
            "按社区定位：地图所示为所在社区的中心",
            "Located by community: the map shows its community's centre",
        ),
        "duty_out_of_scope": (
            "所选镇街不在管辖范围内，已显示全部镇街",
            "That street is outside your area: showing all",
        ),
        "duty_col_number": ("案件编号", "Case no."),
        "duty_col_category": ("类别", "Category"),
        "duty_col_address": ("地址", "Address"),
        "duty_col_status": ("状态", "Status"),
        "duty_col_accepted": ("受理时间", "Accepted"),
        "duty_col_deadline": ("时限", "Deadline"),
        "duty_col_late": ("超期", "Overdue"),
        "duty_col_department": ("承办部门", "Department"),
        "duty_col_level": ("层级", "Level"),
        "duty_col_card": ("督办", "Card"),
        "nav_wall": ("总览", "Wall"),
        "nav_duty": ("值班台", "Duty"),
        "nav_overdue": ("超期督办", "Overdue"),
        "overdue_title": ("超期督办", "Overdue cases"),
        "overdue_children": ("下级单位（按超期件数）", "Units below (by overdue)"),
        "overdue_col_unit": ("单位", "Unit"),
        "overdue_col_overdue": ("超期", "Overdue"),
        "overdue_col_due_soon": ("临期", "Due soon"),
        "overdue_col_open": ("在办", "Open"),
        "overdue_cases": ("超期案件（超期最久在前）", "Overdue cases (latest first)"),
        "overdue_cases_count": ("共 {n} 件", "{n} in all"),
        "overdue_cases_more": ("仅显示超期最久的 {n} 件", "Showing the {n} most late"),
        "overdue_no_cases": ("此处没有超期案件", "Nothing overdue here"),
        "overdue_no_children": ("网格为最小单元", "A grid has no units below"),
        "overdue_col_late": ("超期时长", "Late by"),
        "overdue_col_case": ("案件", "Case"),
        "overdue_col_place": ("属地", "Where"),
        "overdue_col_department": ("承办部门", "Held by"),
        "overdue_col_level": ("层级", "Level"),
        "overdue_col_card": ("督办", "Card"),
        "overdue_open": ("查看 →", "Open →"),
        "overdue_back_top": ("← 返回全区", "← Back to the district"),
        "overdue_unknown_unit": ("该单位不存在或不在管辖范围内", "Unknown unit, or outside your area"),
        "overdue_total": (
            "超期 {late} · 临期 {soon} · 在办 {open}",
            "{late} overdue · {soon} due soon · {open} open",
        ),
        "overdue_days": ("{d}天{h}小时", "{d}d {h}h"),
        "overdue_hours": ("{h}小时", "{h}h"),
    }
)
