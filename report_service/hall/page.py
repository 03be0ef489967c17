"""The dashboard's HTML shells (login, hall list, dashboard) and its static files.

The page draws itself in the browser from `/halls/{hall_id}/state` and its event stream; everything
it loads is served from here (no CDN, no web fonts). Values from terminals only ever reach the page
as text nodes, never as HTML.
"""

from __future__ import annotations

import html
import json
from importlib import resources

from .staff import LOGIN_REFUSED, StaffMember
from .vocabulary import (
    ALERT_KINDS,
    AVAILABILITY,
    COMMAND_KINDS,
    COMMAND_STATUS,
    DEVICE_KINDS,
    DEVICE_STATES,
    HELP_REASONS,
    HELP_STATUS,
    LINK,
    PAPER,
    STAFF_ROLES,
    STEPS,
)

STATIC = {"dashboard.js": "text/javascript", "dashboard.css": "text/css"}
CSP = "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'"
LOGIN_FAILURES = {
    **LOGIN_REFUSED,
    "too_many_logins": "登录尝试过于频繁，请一分钟后再试。",
    "expired": "登录页面已过期，请重新输入。",
    "cross_site_login": "请从本平台的登录页登录。",
    "invalid_request": "请输入用户名和密码。",
}


def static_file(name: str) -> tuple[bytes, str] | None:
    if name not in STATIC:
        return None
    data = resources.files("report_service").joinpath("hall", "static", name).read_bytes()
    return data, STATIC[name]


def _shell(title: str, body: str, head: str = "") -> str:
    return f"""<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{html.escape(title)}</title>
<link rel="stylesheet" href="/halls/static/dashboard.css">{head}
</head><body>{body}</body></html>"""


def login(nonce: str, failed: str) -> str:
    problem = LOGIN_FAILURES.get(failed, "")
    note = f'<p class="problem" role="alert">{html.escape(problem)}</p>' if problem else ""
    return _shell(
        "大厅终端管理 · 登录",
        f"""
<main class="login"><h1>大厅终端管理</h1><p>工作人员登录</p>{note}
<form method="post" action="/halls/login">
<input type="hidden" name="login_nonce" value="{html.escape(nonce)}">
<label>用户名<input name="username" autocomplete="username" required maxlength="64"></label>
<label>密码<input name="password" type="password" autocomplete="current-password" required></label>
<button type="submit" class="primary">登录</button>
</form></main>""",
    )


def hall_list(who: StaffMember) -> str:
    items = "".join(
        f'<li><a href="/halls/{html.escape(h)}">{html.escape(h)}</a></li>'
        for h in sorted(who.halls)
    )
    return _shell(
        "大厅终端管理", f'<main><h1>您管理的大厅</h1><ul class="halls">{items}</ul></main>'
    )


VOCABULARY = {
    "availability": AVAILABILITY,
    "link": LINK,
    "device_kinds": DEVICE_KINDS,
    "device_states": DEVICE_STATES,
    "paper": PAPER,
    "help_reasons": HELP_REASONS,
    "help_status": HELP_STATUS,
    "steps": STEPS,
    "commands": COMMAND_KINDS,
    "command_status": COMMAND_STATUS,
    "alerts": {k: {"label": v.label, "severity": v.severity} for k, v in ALERT_KINDS.items()},
    "roles": STAFF_ROLES,
}


def dashboard(hall_id: str, who: StaffMember) -> str:
    config = {
        "hall_id": hall_id,
        "user": who.display_name,
        "role": who.role,
        "commands": sorted(who.allowed_commands, key=list(COMMAND_KINDS).index),
        "vocabulary": VOCABULARY,
    }
    data = html.escape(json.dumps(config, ensure_ascii=False), quote=True)
    head = (
        f'\n<meta name="csrf-token" content="{html.escape(who.csrf_token)}">'
        f'\n<script src="/halls/static/dashboard.js" defer></script>'
    )
    body = f"""
<header class="top"><h1>大厅终端 <span id="hall-name"></span></h1>
<span id="open-badge" class="badge"></span><span id="live" class="live">连接中…</span>
<span class="user">{html.escape(who.display_name)}（{html.escape(STAFF_ROLES[who.role])}）</span>
<button id="logout" type="button">退出</button></header>
<div id="config" data-config="{data}" hidden></div>
<main>
<section id="help-section"><h2>求助 <span id="help-count" class="count"></span></h2><ol id="help-calls" class="list"></ol></section>
<section id="alert-section"><h2>告警 <span id="alert-count" class="count"></span></h2><ol id="alerts" class="list"></ol></section>
<section><h2>终端</h2><div id="terminals" class="cards"></div></section>
<section><h2>命令</h2><ol id="commands" class="list"></ol></section>
<section><h2>诊断包</h2><ol id="bundles" class="list"></ol></section>
<section><h2>统计（近7天）<a id="csv" class="small" href="#" download>导出CSV</a></h2><div id="stats"></div></section>
</main>
<dialog id="confirm"><form method="dialog"><p id="confirm-text"></p>
<menu><button value="cancel">取消</button><button value="ok" class="primary" id="confirm-ok">确定</button></menu></form></dialog>
<p id="toast" role="status" class="toast" hidden></p>"""
    return _shell(f"大厅终端 {hall_id}", body, head)
