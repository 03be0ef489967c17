"""Lay a ReportDocument out on A4 pages: wrap text by glyph widths, assign rows to pages.

Two passes, so that "第X页 共Y页" knows Y: this module decides every line and its page; pdf.py
draws them. Layout depends only on the text and the font, so wrapped text and the rows of clean
domains (38 of 40 on a typical report, identical for a period) are cached.
"""

from __future__ import annotations

import datetime as dt
import re
import threading
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import TypeVar

from reportlab.lib.pagesizes import A4

from report_service.clock import CST
from report_service.document import DomainResult, RecordLine, ReportDocument
from report_service.pdf_font import FontChain as _Font

__all__ = ["Header", "Line", "Page", "Row", "local_time", "paginate"]

PAGE_W, PAGE_H = A4
X0, X3 = 42.0, PAGE_W - 42.0  # content left and right edges
TOP = PAGE_H - 42.0
BODY_BOTTOM = 70.0  # rows end above this; the footer lives below
COL_X = (X0, X0 + 34.0, X0 + 164.0, X3)  # 序号 | 领域 | 结论
SIZE = 9.5  # table text
LEADING = 13.5
PAD_X, PAD_Y = 5.0, 4.0
HEAD_H = LEADING + 2 * PAD_Y
QR_SIZE = 84.0

# Characters that must not open a line (they hang on the previous one's last character instead).
_NO_LINE_START = frozenset("，。、；：？！）》」』】〕”’,.;:?!)]%")
# Entries per cache, cleared when full (layout is cheap to redo). The clean rows' are Row objects
# the garbage collector walks (~10 per entry): a smaller bound keeps its full collections short.
_CACHE_LIMIT = 20_000
_ROWS_LIMIT = 1_000  # 40 domains' rows for 25 periods
_K = TypeVar("_K")
_V = TypeVar("_V")


class _Cache(dict[_K, _V]):
    """A bounded memo shared by render threads (dict operations are atomic under the GIL)."""

    _lock = threading.Lock()

    def __init__(self, limit: int = _CACHE_LIMIT) -> None:
        super().__init__()
        self.limit = limit

    def put(self, key: _K, value: _V) -> None:
        if len(self) >= self.limit:
            with self._lock:
                self.clear()
        self[key] = value


# Keys and values of strings and numbers only: the garbage collector stops tracking such tuples,
# so a full cache costs a full collection next to nothing (its tracked objects had made each of a
# serve process's full collections 30-65 ms long, with every request in the process held up).
_wrapped: _Cache[tuple[str | float | bool, ...], tuple[str, ...]] = _Cache()
_clean_rows: _Cache[tuple[object, ...], list[Row]] = _Cache(_ROWS_LIMIT)


@dataclass(frozen=True)
class _Keep:
    """Text that wraps as one unit (document numbers, the clean-domain phrase)."""

    text: str


# ASCII words and numbers stay whole; anything else (Chinese) may break after any character.
_TOKEN = re.compile(r"[\x21-\x7e]+|.", re.S)


def _tokens(pieces: Iterable[str | _Keep]) -> Iterator[str]:
    for piece in pieces:
        if isinstance(piece, _Keep):
            yield piece.text
        else:
            yield from _TOKEN.findall(piece)


def _wrap(
    font: _Font, pieces: Sequence[str | _Keep], size: float, width: float, memo: bool = True
) -> list[str]:
    """Break text into lines no wider than width, by measured glyph widths (Chinese has no spaces).
    memo=False for the header's values: mostly the report's own (number, code, time), never
    asked for again."""
    if not memo:
        return _wrap_text(font, pieces, size, width)
    key = (font.path, size, width, *_kinds_and_texts(pieces))
    found = _wrapped.get(key)
    if found is None:
        found = tuple(_wrap_text(font, pieces, size, width))
        _wrapped.put(key, found)
    return list(found)


def _kinds_and_texts(pieces: Iterable[str | _Keep]) -> Iterator[bool | str]:
    for piece in pieces:
        if isinstance(piece, _Keep):
            yield from (True, piece.text)
        else:
            yield from (False, piece)


def _wrap_text(font: _Font, pieces: Iterable[str | _Keep], size: float, width: float) -> list[str]:
    toks: list[tuple[str, float]] = []
    em = font.em
    for tok in _tokens(pieces):
        w = em(tok) * size if len(tok) == 1 else font.width(tok, size)
        if w > width and len(tok) > 1:  # wider than a whole line: break it anywhere
            toks.extend((ch, em(ch) * size) for ch in tok)
        else:
            toks.append((tok, w))
    lines: list[str] = []
    line: list[tuple[str, float]] = []
    used = 0.0
    for tok, w in toks:
        if line and used + w > width:
            carry: list[tuple[str, float]] = []
            if tok[0] in _NO_LINE_START and len(line) > 1 and line[-1][1] + w <= width:
                carry = [line.pop()]
            lines.append("".join(t for t, _ in line).rstrip())
            line, used = carry, sum(cw for _, cw in carry)
            if not line and tok.isspace():
                continue
        line.append((tok, w))
        used += w
    if line:
        lines.append("".join(t for t, _ in line).rstrip())
    return lines or [""]


# ---------------------------------------------------------------------------------------- layout


@dataclass(frozen=True)
class Line:
    dx: float  # offset from the cell's text origin
    text: str


@dataclass
class Row:
    cells: tuple[list[Line], list[Line], list[Line]]  # 序号, 领域, 结论
    domain_name: str = ""
    record: bool = False  # a record under its domain row: no rule across the first two columns
    keep_with_next: bool = False  # a domain row stays with its first record
    height: float = field(init=False)
    # The row's text operators, per set of glyph codes (pdf.py fills it; rows are shared).
    drawn: dict[int, tuple[str, int]] = field(init=False, default_factory=dict, compare=False)

    def __post_init__(self) -> None:  # rows are never changed once made
        self.height = max(len(c) for c in self.cells) * LEADING + 2 * PAD_Y


@dataclass
class Header:
    height: float
    texts: list[tuple[float, float, float, str]]  # x, dy from the top, size, text
    centered: list[tuple[float, float, str]]  # dy, size, text, centred on the page
    box: tuple[float, float]  # dy of the box top, box height
    qr: tuple[float, float]  # x, dy of the QR code's top


@dataclass
class Page:
    number: int
    header: Header | None = None
    rows: list[tuple[Row, float]] = field(default_factory=list)  # row, its top y
    table_top: float | None = None
    total_y: float | None = None


def _cell_width(col: int) -> float:
    return COL_X[col + 1] - COL_X[col] - 2 * PAD_X


def _labelled(
    font: _Font, label: str, value: Sequence[str | _Keep], width: float, memo: bool = True
) -> list[Line]:
    """A "label：value" paragraph whose continuation lines hang under the value."""
    lw = font.width(label, SIZE)
    lines = _wrap(font, value, SIZE, width - lw, memo)
    return [Line(0.0, label + lines[0])] + [Line(lw, t) for t in lines[1:]]


def _record_lines(font: _Font, n: int, rec: RecordLine) -> list[Line]:
    width = _cell_width(2) - 10.0
    head: list[str | _Keep] = [
        f"{n}. {rec.kind_label}　{rec.date.isoformat()}　",
        _Keep(f"文号：{rec.document_no}"),
    ]
    out = [Line(0.0, t) for t in _wrap(font, head, SIZE, _cell_width(2))]
    for label, value in (("部门：", rec.agency), ("名称：", rec.title), ("名单：", rec.list_name)):
        if value:
            out += [Line(10.0 + ln.dx, ln.text) for ln in _labelled(font, label, [value], width)]
    if rec.repaired_on:
        out.append(Line(10.0, f"已于{rec.repaired_on.isoformat()}信用修复"))
    return out


def _domain_rows(font: _Font, doc: ReportDocument, n: int, dom: DomainResult) -> list[Row]:
    if dom.records:
        return _rows_of(font, doc, n, dom)
    key = (font.path, n, dom.name, dom.clean_text, doc.period_from, doc.period_to)
    found = _clean_rows.get(key)
    if found is None:  # rows are never changed once made: the cached one can be shared
        found = _rows_of(font, doc, n, dom)
        _clean_rows.put(key, found)
    return list(found)


def _rows_of(font: _Font, doc: ReportDocument, n: int, dom: DomainResult) -> list[Row]:
    period = f"自{doc.period_from.isoformat()}至{doc.period_to.isoformat()}，"
    found = f"有{len(dom.records)}条记录" if dom.records else dom.clean_text
    conclusion = _wrap(font, [_Keep(period), _Keep(found)], SIZE, _cell_width(2))
    name = [Line(0.0, t) for t in _wrap(font, [dom.name], SIZE, _cell_width(1))]
    rows = [
        Row(
            ([Line(0.0, str(n))], name, [Line(0.0, t) for t in conclusion]),
            domain_name=dom.name,
            keep_with_next=bool(dom.records),
        )
    ]
    for i, rec in enumerate(dom.records, 1):
        rows.append(Row(([], [], _record_lines(font, i, rec)), domain_name=dom.name, record=True))
    return rows


def _continued(font: _Font, row: Row) -> Row:
    """A record row that opens a page names its domain again."""
    name = [Line(0.0, t) for t in _wrap(font, [row.domain_name, "（续）"], SIZE, _cell_width(1))]
    return Row((row.cells[0], name, row.cells[2]), row.domain_name, record=True)


def _split(row: Row, n: int) -> tuple[Row, Row]:
    """Last resort for a row taller than a whole page: cut it after n lines."""
    a, b, c = row.cells
    return (
        Row((a[:n], b[:n], c[:n]), row.domain_name, row.record),
        Row((a[n:], b[n:], c[n:]), row.domain_name, record=True),
    )


def _header(font: _Font, doc: ReportDocument) -> Header:
    texts: list[tuple[float, float, float, str]] = []
    centered = [(22.0, 20.0, doc.title), (44.0, 11.0, doc.platform_name)]
    box_top = 58.0
    qr_area = QR_SIZE + 40.0  # keeps text 4+ modules clear of the code (its quiet zone)
    left_w = X3 - X0 - qr_area - 12.0
    half = left_w / 2
    issued = local_time(doc.issued_at).strftime("%Y-%m-%d %H:%M")
    period = f"{doc.period_from.isoformat()} 至 {doc.period_to.isoformat()}"
    grid: list[list[tuple[str, list[str | _Keep]]]] = [  # codes and dates never break
        [("报告编号：", [_Keep(doc.report_id)]), ("核验码：", [_Keep(doc.verification_code)])],
        [("出具时间：", [_Keep(issued)]), ("有效期至：", [_Keep(doc.valid_until.isoformat())])],
        [("主体名称：", [doc.entity_name])],
        [("统一社会信用代码：", [_Keep(doc.uscc)])],
        [("主体类型：", [doc.entity_kind_label])],
        [("查询期间：", [_Keep(period)])],
        [("证明范围：", [f"{doc.region_name}行政区域内"])],  # the seeds word the proof as regional
    ]
    lead = 17.0
    dy = box_top + 12.0
    for cells in grid:
        width = left_w if len(cells) == 1 else half - 8.0
        tallest = 0
        for i, (label, value) in enumerate(cells):
            x = X0 + 12.0 + i * half
            lines = _labelled(font, label, value, width, memo=False)  # the report's own values
            texts += [
                (x + ln.dx, dy + k * lead + 10.0, 10.0, ln.text) for k, ln in enumerate(lines)
            ]
            tallest = max(tallest, len(lines))
        dy += tallest * lead
    qr_block = QR_SIZE + 42.0
    box_h = max(dy - box_top, qr_block) + 12.0
    qr_x = X3 - 12.0 - (qr_area + QR_SIZE) / 2
    qr_dy = box_top + 14.0
    for k, text in enumerate(("扫码核验", doc.verification_code)):
        x = qr_x + (QR_SIZE - font.width(text, 9.0)) / 2
        texts.append((x, qr_dy + QR_SIZE + 20.0 + k * 13.0, 9.0, text))
    return Header(box_top + box_h + 14.0, texts, centered, (box_top, box_h), (qr_x, qr_dy))


def local_time(ts: dt.datetime) -> dt.datetime:
    if ts.tzinfo is None:  # a naive time would render differently per host
        raise ValueError("ReportDocument.issued_at must be timezone-aware")
    return ts.astimezone(CST)


def paginate(font: _Font, doc: ReportDocument) -> list[Page]:
    rows = [r for n, d in enumerate(doc.domains, 1) for r in _domain_rows(font, doc, n, d)]
    header = _header(font, doc)
    pages = [Page(1, header=header)]
    y = TOP - header.height
    max_lines = int((TOP - HEAD_H - BODY_BOTTOM - 2 * PAD_Y) // LEADING)

    def new_page() -> None:
        nonlocal y
        pages.append(Page(len(pages) + 1))
        y = TOP

    i = 0
    while i < len(rows):
        row = rows[i]
        page = pages[-1]
        if page.table_top is None:
            page.table_top = y
            y -= HEAD_H
            if row.record:
                row = rows[i] = _continued(font, row)
        need = row.height + (rows[i + 1].height if row.keep_with_next else 0.0)
        if y - need < BODY_BOTTOM and page.rows:
            new_page()
            continue
        if y - row.height < BODY_BOTTOM:  # taller than an empty page: no choice but to cut it
            fit = min(max_lines, int((y - BODY_BOTTOM - 2 * PAD_Y) // LEADING))
            row, rows[i] = _split(row, max(fit, 1))
            page.rows.append((row, y))
            new_page()
            continue
        page.rows.append((row, y))
        y -= row.height
        i += 1
    if y - 28.0 < BODY_BOTTOM:
        new_page()
    pages[-1].total_y = y - 18.0
    return pages
