"""The verify page for phones and PCs (DESIGN §10): what the printed QR opens in a browser.

The verification URL answers JSON to machines and this page to a browser (content negotiation on
Accept). Everything is in the page itself — style and a small script that hashes a PDF file with
WebCrypto, in the browser, and compares it with the report's SHA-256; a Content-Security-Policy
built from their hashes lets nothing else run or load.
"""

from __future__ import annotations

import base64
import datetime as dt
import functools
import hashlib
import html
from importlib import resources
from string import Template

from .clock import CST
from .service import Verification

WORDS = {
    "valid": ("有效", "该报告由出具平台签发，现处于有效期内。"),
    "expired": ("已过期", "该报告确由出具平台签发，但已超过有效期，不能再作为有效证明。"),
    "revoked": ("已撤销", "该报告已被出具平台撤销，不能作为有效证明。"),
    "unknown": ("未找到", "没有找到该核验码对应的报告，请核对核验码是否输入正确。"),
}


@functools.cache
def _asset(name: str) -> str:
    return resources.files("report_service").joinpath("web", name).read_text(encoding="utf-8")


def _csp_hash(text: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode()).digest()).decode() + "'"


@functools.cache
def content_security_policy() -> str:
    return (
        f"default-src 'none'; script-src {_csp_hash(_asset('verify.js'))}; "
        f"style-src {_csp_hash(_asset('verify.css'))}; img-src 'none'; form-action 'none'; "
        "base-uri 'none'; frame-ancestors 'none'"
    )


PAGE_HEADERS = {
    "Content-Security-Policy": "",  # filled in by page_headers()
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
    "Vary": "Accept",
}


def page_headers() -> dict[str, str]:
    return PAGE_HEADERS | {"Content-Security-Policy": content_security_policy()}


def wants_html(accept: str | None) -> bool:
    """A browser asks for text/html before (or instead of) JSON; a machine does not."""
    if not accept:
        return False
    kinds = [part.split(";")[0].strip().lower() for part in accept.split(",")]
    if "text/html" not in kinds:
        return False
    return "application/json" not in kinds or kinds.index("text/html") < kinds.index(
        "application/json"
    )


def _issued(at: dt.datetime) -> str:
    local = at.astimezone(CST)
    return f"{local.year}年{local.month}月{local.day}日 {local:%H:%M}"


def _row(label: str, value: str, cls: str = "") -> str:
    extra = f' class="{cls}"' if cls else ""
    return f"<dt>{html.escape(label)}</dt><dd{extra}>{html.escape(value)}</dd>"


def render(v: Verification, code: str) -> str:
    word, note = WORDS[v.status]
    e = html.escape
    if v.status == "unknown" or v.issued_at is None or v.period is None:
        facts = (
            '<section class="card"><dl>'
            + _row("核验码", code.strip().upper()[:40], "mono")
            + "</dl></section>"
        )
        checker = ""
        heading = "未找到该报告"
        sha256 = ""
        script = ""
    else:
        domains = v.parts(sections=False)
        sections = [name for _, name in v.parts(sections=True)]
        facts = (
            '<section class="card"><dl>'
            + _row("主体名称", v.name or "")
            + _row("统一社会信用代码", v.uscc or "", "mono")
            + _row("查询期间", f"{v.period[0].isoformat()} 至 {v.period[1].isoformat()}")
            + _row("出具时间", _issued(v.issued_at))
            + _row("有效期至", v.valid_until.isoformat() if v.valid_until else "")
            + _row("核验码", code.strip().upper(), "mono")
            + _row("报告文件SHA-256", v.sha256 or "", "mono")
            + "</dl></section>"
            + f'<section class="card"><h2>证明领域（{len(domains)}个）</h2><ul class="domains">'
            + "".join(f"<li>{e(name)}</li>" for _, name in domains)
            + "</ul>"
            + (f"<p>另含：{e('、'.join(sections))}（每份报告都包括）</p>" if sections else "")
            + "</section>"
        )
        checker = (
            '<section class="card" id="checker"><h2>核对报告文件</h2>'
            "<p>选择您收到的报告PDF文件：本页在您的设备上计算它的SHA-256（文件不会上传），"
            "并与本报告比对。</p>"
            '<label class="pick">选择PDF文件<input type="file" id="file" '
            'accept="application/pdf,.pdf"></label>'
            '<p id="result" role="status" aria-live="polite"></p></section>'
        )
        heading = v.name or "信用报告"
        sha256 = v.sha256 or ""
        script = f"<script>{_asset('verify.js')}</script>"
    return Template(_asset("verify.html")).substitute(
        page_title=e(f"报告核验：{word}"),
        style=_asset("verify.css"),
        sha256=e(sha256),
        heading=e(heading),
        status=v.status,
        word=e(word),
        note=e(note),
        facts=facts,
        checker=checker,
        script=script,
    )
