"""Render a ReportDocument as an A4 PDF with an embedded CJK TrueType font.

Draws on the reportlab canvas directly (platypus tables were ~3x slower, see STACK-NOTES) in two
passes: lay out every row and assign it to a page first, so that "第X页 共Y页" knows Y, then draw.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import os
import re
import threading
import zlib
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field

import qrcode
from qrcode.constants import ERROR_CORRECT_M
from reportlab import rl_config
from reportlab.lib.pagesizes import A4
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas

from report_service.clock import CST
from report_service.document import DomainResult, RecordLine, ReportDocument

__all__ = [
    "DEFAULT_FONT_PATH",
    "FONT_ENV",
    "FontNotFoundError",
    "render_report_pdf",
    "resolve_font_path",
]

DEFAULT_FONT_PATH = "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc"
FONT_ENV = "REPORT_FONT"
# A fixed mask skips qrcode's 8-way penalty search (~7 ms); decoders read the mask from the symbol.
QR_MASK = 2

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


class FontNotFoundError(FileNotFoundError):
    """No CJK TrueType font to embed in the report."""


# ---------------------------------------------------------------------------------------- fonts


class _Font:
    """A registered TrueType font with fast per-character metrics."""

    def __init__(self, name: str, ttf: TTFont) -> None:
        self.name = name
        self.ttf = ttf
        # The face's subsetter reads through one shared file cursor: save() must not run concurrently.
        self.subset_lock = threading.Lock()
        self._units: dict[int, float] = ttf.face.charWidths
        self._default = float(ttf.face.defaultWidth)
        self._em: dict[str, float] = {}

    def em(self, ch: str) -> float:
        w = self._em.get(ch)
        if w is None:
            w = self._em[ch] = self._units.get(ord(ch), self._default) / 1000.0
        return w

    def width(self, text: str, size: float) -> float:
        return sum(map(self.em, text)) * size


_font_lock = threading.Lock()
_fonts: dict[str, _Font] = {}


def resolve_font_path(font_path: str | None = None) -> str:
    """The CJK font to embed: the argument, else $REPORT_FONT, else the WenQuanYi Micro Hei TTC."""
    if font_path:
        source, path = "font_path argument", font_path
    elif os.environ.get(FONT_ENV):
        source, path = f"${FONT_ENV}", os.environ[FONT_ENV]
    else:
        source, path = "default", DEFAULT_FONT_PATH
    if not os.path.isfile(path):
        raise FontNotFoundError(
            f"CJK font {path!r} ({source}) not found. Install the package fonts-wqy-microhei "
            f"(apt-get install fonts-wqy-microhei) or set {FONT_ENV} to a TrueType .ttf/.ttc "
            "font with Chinese glyphs."
        )
    return os.path.realpath(path)


def _get_font(path: str) -> _Font:
    font = _fonts.get(path)
    if font is None:
        with _font_lock:  # parsing the TTC takes ~150 ms: once per process and path
            font = _fonts.get(path)
            if font is None:
                # Named by path so that the name, and thus the output, is stable across processes.
                name = "ReportCJK-" + hashlib.sha256(path.encode()).hexdigest()[:12]
                rl_config.useA85 = 0  # pure-Python ASCII85 cost ~30% of a render (process-wide)
                # asciiReadable reserves 95 codes of the first 256-glyph subset: packing saves subsets.
                ttf = TTFont(name, path, subfontIndex=0, asciiReadable=False)
                _memoise_subsets(ttf)
                pdfmetrics.registerFont(ttf)
                font = _fonts[path] = _Font(name, ttf)
    return font


SUBSET_CACHE_SIZE = 64
# Characters assigned first in every report, so the leading 256-glyph subset repeats report to
# report (with the region's title and domain names) and its font program comes from the cache.
_STABLE_CHARS = (
    "".join(chr(c) for c in range(32, 127))
    + "报告编号核验码出具时间有效期至主体名称统一社会信用代码类型查询期间序号领域结论该无违法违规记录"
    + "有条合计共个第页扫码本由可扫描二维或凭真伪续部门文名单已于修复行政处罚严重失信经营异常录"
    + "社会保险费欠缴住房公积金年月日：，、（）〔〕．－"
)


class _BoundedCache(dict[object, bytes]):
    def put(self, key: object, value: bytes) -> bytes:
        if len(self) >= SUBSET_CACHE_SIZE:
            self.pop(next(iter(self)))  # oldest first
        self[key] = value
        return value


class _CachedFlate:
    """Flate for font programs, compressed once per distinct program (~2 ms each at level 6)."""

    pdfname = "FlateDecode"

    def __init__(self) -> None:
        self._cache = _BoundedCache()

    def encode(self, data: bytes) -> bytes:
        key = hashlib.sha256(data).digest()
        found = self._cache.get(key)
        return found if found is not None else self._cache.put(key, zlib.compress(data))


def _memoise_subsets(ttf: TTFont) -> None:
    """Reuse subset font programs, which reportlab builds in pure Python (~4 ms per 256 glyphs)."""
    face = ttf.face
    build, add_objects = face.makeSubset, face.addSubsetObjects
    programs = _BoundedCache()
    flate = _CachedFlate()

    def make_subset(subset: Sequence[int]) -> bytes:
        key = tuple(subset)
        found = programs.get(key)
        return found if found is not None else programs.put(key, build(subset))

    def add_subset_objects(doc: object, fontname: str, subset: Sequence[int]) -> object:
        ref = add_objects(doc, fontname, subset)
        stream = doc.idToObject[f"fontFile:{face.filename}({fontname})"]  # type: ignore[attr-defined]
        if stream.filters:
            stream.filters = [flate]
        return ref

    face.makeSubset = make_subset
    face.addSubsetObjects = add_subset_objects


def _stable_prefix(doc: ReportDocument) -> str:
    return _STABLE_CHARS + doc.title + doc.platform_name + "".join(d.name for d in doc.domains)


# -------------------------------------------------------------------------------------- wrapping


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


def _wrap(font: _Font, pieces: Iterable[str | _Keep], size: float, width: float) -> list[str]:
    """Break text into lines no wider than width, by measured glyph widths (Chinese has no spaces)."""
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
class _Line:
    dx: float  # offset from the cell's text origin
    text: str


@dataclass
class _Row:
    cells: tuple[list[_Line], list[_Line], list[_Line]]  # 序号, 领域, 结论
    domain_name: str = ""
    record: bool = False  # a record under its domain row: no rule across the first two columns
    keep_with_next: bool = False  # a domain row stays with its first record

    @property
    def n_lines(self) -> int:
        return max(len(c) for c in self.cells)

    @property
    def height(self) -> float:
        return self.n_lines * LEADING + 2 * PAD_Y


@dataclass
class _Header:
    height: float
    texts: list[tuple[float, float, float, str]]  # x, dy from the top, size, text
    centered: list[tuple[float, float, str]]  # dy, size, text, centred on the page
    box: tuple[float, float]  # dy of the box top, box height
    qr: tuple[float, float]  # x, dy of the QR code's top


@dataclass
class _Page:
    number: int
    header: _Header | None = None
    rows: list[tuple[_Row, float]] = field(default_factory=list)  # row, its top y
    table_top: float | None = None
    total_y: float | None = None


def _cell_width(col: int) -> float:
    return COL_X[col + 1] - COL_X[col] - 2 * PAD_X


def _labelled(font: _Font, label: str, value: Sequence[str | _Keep], width: float) -> list[_Line]:
    """A "label：value" paragraph whose continuation lines hang under the value."""
    lw = font.width(label, SIZE)
    lines = _wrap(font, value, SIZE, width - lw)
    return [_Line(0.0, label + lines[0])] + [_Line(lw, t) for t in lines[1:]]


def _record_lines(font: _Font, n: int, rec: RecordLine) -> list[_Line]:
    width = _cell_width(2) - 10.0
    head = [f"{n}. {rec.kind_label}　{rec.date.isoformat()}　", _Keep(f"文号：{rec.document_no}")]
    out = [_Line(0.0, t) for t in _wrap(font, head, SIZE, _cell_width(2))]
    for label, value in (("部门：", rec.agency), ("名称：", rec.title), ("名单：", rec.list_name)):
        if value:
            out += [_Line(10.0 + ln.dx, ln.text) for ln in _labelled(font, label, [value], width)]
    if rec.repaired_on:
        out.append(_Line(10.0, f"已于{rec.repaired_on.isoformat()}信用修复"))
    return out


def _domain_rows(font: _Font, doc: ReportDocument, n: int, dom: DomainResult) -> list[_Row]:
    period = f"自{doc.period_from.isoformat()}至{doc.period_to.isoformat()}，"
    found = f"有{len(dom.records)}条记录" if dom.records else "该领域无违法违规记录"
    conclusion = _wrap(font, [_Keep(period), _Keep(found)], SIZE, _cell_width(2))
    name = [_Line(0.0, t) for t in _wrap(font, [dom.name], SIZE, _cell_width(1))]
    rows = [
        _Row(
            ([_Line(0.0, str(n))], name, [_Line(0.0, t) for t in conclusion]),
            domain_name=dom.name,
            keep_with_next=bool(dom.records),
        )
    ]
    for i, rec in enumerate(dom.records, 1):
        rows.append(_Row(([], [], _record_lines(font, i, rec)), domain_name=dom.name, record=True))
    return rows


def _continued(font: _Font, row: _Row) -> _Row:
    """A record row that opens a page names its domain again."""
    name = [_Line(0.0, t) for t in _wrap(font, [row.domain_name, "（续）"], SIZE, _cell_width(1))]
    return _Row((row.cells[0], name, row.cells[2]), row.domain_name, record=True)


def _split(row: _Row, n: int) -> tuple[_Row, _Row]:
    """Last resort for a row taller than a whole page: cut it after n lines."""
    a, b, c = row.cells
    return (
        _Row((a[:n], b[:n], c[:n]), row.domain_name, row.record),
        _Row((a[n:], b[n:], c[n:]), row.domain_name, record=True),
    )


def _header(font: _Font, doc: ReportDocument) -> _Header:
    texts: list[tuple[float, float, float, str]] = []
    centered = [(22.0, 20.0, doc.title), (44.0, 11.0, doc.platform_name)]
    box_top = 58.0
    qr_area = QR_SIZE + 40.0  # keeps text 4+ modules clear of the code (its quiet zone)
    left_w = X3 - X0 - qr_area - 12.0
    half = left_w / 2
    issued = _local(doc.issued_at).strftime("%Y-%m-%d %H:%M")
    period = f"{doc.period_from.isoformat()} 至 {doc.period_to.isoformat()}"
    grid: list[list[tuple[str, list[str | _Keep]]]] = [  # codes and dates never break
        [("报告编号：", [_Keep(doc.report_id)]), ("核验码：", [_Keep(doc.verification_code)])],
        [("出具时间：", [_Keep(issued)]), ("有效期至：", [_Keep(doc.valid_until.isoformat())])],
        [("主体名称：", [doc.entity_name])],
        [("统一社会信用代码：", [_Keep(doc.uscc)])],
        [("主体类型：", [doc.entity_kind_label])],
        [("查询期间：", [_Keep(period)])],
    ]
    lead = 17.0
    dy = box_top + 12.0
    for cells in grid:
        width = left_w if len(cells) == 1 else half - 8.0
        tallest = 0
        for i, (label, value) in enumerate(cells):
            x = X0 + 12.0 + i * half
            lines = _labelled(font, label, value, width)
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
    return _Header(box_top + box_h + 14.0, texts, centered, (box_top, box_h), (qr_x, qr_dy))


def _local(ts: dt.datetime) -> dt.datetime:
    if ts.tzinfo is None:  # a naive time would render differently per host
        raise ValueError("ReportDocument.issued_at must be timezone-aware")
    return ts.astimezone(CST)


def _paginate(font: _Font, doc: ReportDocument) -> list[_Page]:
    rows = [r for n, d in enumerate(doc.domains, 1) for r in _domain_rows(font, doc, n, d)]
    header = _header(font, doc)
    pages = [_Page(1, header=header)]
    y = TOP - header.height
    max_lines = int((TOP - HEAD_H - BODY_BOTTOM - 2 * PAD_Y) // LEADING)

    def new_page() -> None:
        nonlocal y
        pages.append(_Page(len(pages) + 1))
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


# --------------------------------------------------------------------------------------- drawing


def _qr_runs(data: str) -> tuple[int, list[tuple[int, int, int]]]:
    """The QR matrix as horizontal runs of dark modules: (row, first column, length)."""
    qr = qrcode.QRCode(error_correction=ERROR_CORRECT_M, border=0, mask_pattern=QR_MASK)
    qr.add_data(data)
    qr.make(fit=True)
    matrix = qr.get_matrix()
    runs: list[tuple[int, int, int]] = []
    for r, line in enumerate(matrix):
        c, n = 0, len(line)
        while c < n:
            if line[c]:
                start = c
                while c < n and line[c]:
                    c += 1
                runs.append((r, start, c - start))
            else:
                c += 1
    return len(matrix), runs


def _draw_qr(c: Canvas, data: str, x: float, top: float, size: float) -> None:
    n, runs = _qr_runs(data)
    m = size / n
    c.saveState()
    c.transform(m, 0, 0, -m, x, top)  # one unit per module, rows downwards: integer coordinates
    c.setFillGray(0)
    # One filled path of integer rects: reportlab's float formatting of them outcost the table.
    c.addLiteral("".join(f"{col} {r} {length} 1 re\n" for r, col, length in runs) + "f")
    c.restoreState()


class _Text:
    """Collects a page's text into one PDF text object (far cheaper than one per string)."""

    def __init__(self, c: Canvas, font: _Font) -> None:
        self._t = c.beginText()
        self._font = font
        self._size = 0.0

    def put(self, x: float, y: float, size: float, text: str) -> None:
        if not text:
            return
        if size != self._size:
            self._t.setFont(self._font.name, size)
            self._size = size
        self._t.setTextOrigin(x, y)
        self._t.textLine(text)  # unlike textOut, does not measure the string again

    def center(self, y: float, size: float, text: str) -> None:
        self.put((PAGE_W - self._font.width(text, size)) / 2, y, size, text)

    def right(self, x: float, y: float, size: float, text: str) -> None:
        self.put(x - self._font.width(text, size), y, size, text)

    def draw(self, c: Canvas) -> None:
        c.setFillGray(0)
        c.drawText(self._t)


def _draw_header(c: Canvas, text: _Text, doc: ReportDocument, h: _Header) -> None:
    for dy, size, s in h.centered:
        text.center(TOP - dy, size, s)
    for x, dy, size, s in h.texts:
        text.put(x, TOP - dy, size, s)
    box_dy, box_h = h.box
    c.setLineWidth(0.8)
    c.setStrokeGray(0)
    c.rect(X0, TOP - box_dy - box_h, X3 - X0, box_h, stroke=1, fill=0)
    qr_x, qr_dy = h.qr
    _draw_qr(c, doc.verify_url, qr_x, TOP - qr_dy, QR_SIZE)


def _draw_table(c: Canvas, text: _Text, page: _Page) -> None:
    top = page.table_top
    if top is None or not page.rows:
        return
    last_row, last_y = page.rows[-1]
    bottom = last_y - last_row.height
    c.setFillGray(0.9)
    c.rect(X0, top - HEAD_H, X3 - X0, HEAD_H, stroke=0, fill=1)
    for col, label in enumerate(("序号", "领域", "结论")):
        text.put(COL_X[col] + PAD_X, top - PAD_Y - SIZE, SIZE, label)
    c.setStrokeGray(0)
    c.setLineWidth(0.6)
    c.lines(
        [(x, top, x, bottom) for x in COL_X]
        + [(X0, top, X3, top), (X0, top - HEAD_H, X3, top - HEAD_H), (X0, bottom, X3, bottom)]
    )
    firsts, records = [], []
    for k, (row, y) in enumerate(page.rows):
        if k:  # the header's bottom rule closes the first row
            (records if row.record else firsts).append((COL_X[2] if row.record else X0, y, X3, y))
        for col, cell in enumerate(row.cells):
            x = COL_X[col] + PAD_X
            for n, ln in enumerate(cell):
                text.put(x + ln.dx, y - PAD_Y - SIZE - n * LEADING, SIZE, ln.text)
    if firsts:
        c.lines(firsts)
    if records:
        c.setStrokeGray(0.6)
        c.setLineWidth(0.3)
        c.lines(records)


def _draw_footer(c: Canvas, text: _Text, doc: ReportDocument, number: int, count: int) -> None:
    c.setStrokeGray(0.5)
    c.setLineWidth(0.5)
    c.line(X0, 58.0, X3, 58.0)
    text.center(46.0, 8.0, f"本报告由{doc.platform_name}出具，可扫描二维码或凭核验码核验真伪")
    text.put(X0, 32.0, 8.0, f"出具平台：{doc.platform_name}　报告编号：{doc.report_id}")
    text.right(X3, 32.0, 8.0, f"第{number}页 共{count}页")


def render_report_pdf(doc: ReportDocument, font_path: str | None = None) -> bytes:
    """Render doc as an A4 PDF; the same doc always gives the same bytes."""
    font = _get_font(resolve_font_path(font_path))
    pages = _paginate(font, doc)
    issued = _local(doc.issued_at)
    buf = io.BytesIO()
    c = Canvas(buf, pagesize=A4, invariant=1, pageCompression=1, initialFontName=font.name)
    # invariant=1 pins the ID; the dates come from the report (in CST, +08:00), not the clock.
    stamp = issued.strftime("D:%Y%m%d%H%M%S+08'00'")
    c.setDateFormatter(lambda *_: stamp)
    c.setTitle(f"{doc.title} {doc.report_id}")
    c.setAuthor(doc.platform_name)
    c.setSubject(doc.entity_name)
    c.setCreator("report_service")
    font.ttf.splitString(_stable_prefix(doc), c._doc)  # assigns codes only; draws nothing
    total = doc.total_records
    for page in pages:
        text = _Text(c, font)
        if page.header is not None:
            _draw_header(c, text, doc, page.header)
        _draw_table(c, text, page)
        if page.total_y is not None:
            text.put(X0, page.total_y, 10.0, f"合计：查询{len(doc.domains)}个领域，共{total}条记录")
        _draw_footer(c, text, doc, page.number, len(pages))
        text.draw(c)
        c.showPage()
    with font.subset_lock:
        c.save()
    return buf.getvalue()
