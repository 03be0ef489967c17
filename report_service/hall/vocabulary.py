"""The words terminals and staff exchange about a hall (DESIGN §8), each defined once, with the
Chinese a dashboard shows for it. The kiosk sends values from the same lists (docs/api.md)."""

from __future__ import annotations

import re
from dataclasses import dataclass

AVAILABILITY = {
    "in_service": "可以办理",
    "out_of_service": "暂停服务（设备故障）",
    "locked": "暂停服务（工作人员锁定）",
    "offline_queueing": "离线受理中（平台连接中断过）",
}
LINK = {"online": "在线", "offline": "离线", "closed": "已闭厅"}
DEVICE_KINDS = {
    "id_card": "身份证阅读器",
    "qr_camera": "扫码摄像头",
    "a4_printer": "A4打印机",
    "receipt_printer": "小票打印机",
}
DEVICE_STATES = {
    "online": "正常",
    "offline": "未连接",
    "busy": "工作中",
    "user_error": "需要使用人处理",
    "hardware_error": "硬件故障",
}
PAPER = {
    "full": "纸张充足",
    "low": "纸张将尽",
    "out": "缺纸",
    "jammed": "卡纸",
    "unknown": "纸张状态未知",
}
HELP_REASONS = {
    "user_request": "办事人请求帮助",
    "paper_out": "缺纸",
    "print_failed": "打印失败",
    "device_fault": "设备故障",
    "card_unreadable": "身份证读不出",
    "out_of_service": "终端暂停服务",
    "other": "其他",
}
STEPS = {  # the kiosk's screens a help call may come from (others are shown as sent)
    "attract": "首页",
    "authenticating": "核验身份",
    "choose_enterprise": "选择企业",
    "choose_domains": "选择领域",
    "fetching": "生成报告",
    "choose_scope": "选择领域和期间",
    "confirm": "确认申请",
    "summary": "报告摘要",
    "printing": "打印中",
    "done": "打印完成",
    "print_failed": "打印失败",
    "verify_scan": "核验报告",
    "verify_result": "核验结果",
    "objection": "提出异议",
    "objection_done": "异议已提交",
    "error": "出错提示",
    "enter_uscc": "输入信用代码",
    "queued": "离线受理",
    "pickup_auth": "离线取件",
    "help": "求助",
    "out_of_service": "暂停服务",
    "locked": "暂停服务",
}
HELP_STATUS = {"open": "待响应", "acknowledged": "已响应", "resolved": "已处理"}
COMMAND_KINDS = {
    "lock": "锁定（暂停服务）",
    "unlock": "解除锁定",
    "print_test_page": "打印测试页",
    "reload_config": "重新加载配置",
    "collect_diagnostics": "收集诊断信息",
    "restart_app": "重启程序",
}
COMMAND_STATUS = {
    "pending": "待发送",
    "sent": "已发送",
    "executed": "已执行",
    "failed": "执行失败",
    "expired": "已过期",
    "cancelled": "已取消",
}
COMMAND_FINISHED = frozenset({"executed", "failed", "expired", "cancelled"})
STAFF_ROLES = {
    "hall_staff": "大厅工作人员",
    "hall_admin": "大厅管理员",
    "region_admin": "地区管理员",
}

# a reason, a counter name, an event kind: short machine words, never free text
CODE = re.compile(r"[a-z][a-z0-9_.-]{0,47}")
HELP_REASON = re.compile(r"[a-z][a-z0-9_]{0,31}")  # HELP_REASONS' words, or another code
STEP = re.compile(r"[A-Za-z][A-Za-z0-9_.-]{0,39}")  # the kiosk's step names, or a client's
CLIENT_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")  # event and call ids, unique per terminal


@dataclass(frozen=True)
class AlertKind:
    label: str  # what the dashboard says
    severity: str  # "warning" | "critical"


ALERT_KINDS = {
    "paper_low": AlertKind("纸张将尽，请及时加纸", "warning"),
    "paper_out": AlertKind("缺纸，请加纸", "critical"),
    "paper_jam": AlertKind("卡纸，请处理", "critical"),
    "cover_open": AlertKind("打印机盖未关", "critical"),
    "device_fault": AlertKind("设备故障，请联系技术人员", "critical"),
    "out_of_service": AlertKind("终端暂停服务", "critical"),
    "offline": AlertKind("营业时间内终端离线", "critical"),
    "dead_letters": AlertKind("有未能提交的离线申请", "critical"),
    "help_unanswered": AlertKind("求助超时无人响应", "critical"),
}
