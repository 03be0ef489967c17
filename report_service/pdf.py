"""Render a ReportDocument as an A4 PDF with an embedded CJK TrueType font.

pdf_layout.py wraps the text and assigns rows to pages; this module writes the PDF operators and
objects for that fixed layout directly. A general canvas (reportlab's) cost ~12 ms per report, most
of it in object and number formatting; writing the few operator kinds this layout needs costs ~1.5
ms. The glyphs of the template text (labels, ASCII, the region's title and domain names) go into
subset fonts that are built and compressed once and reused report after report; only the glyphs
particular to a report (the entity's name, its records) get a subset of their own.

A character the main font lacks (CJK Extension A-G: 䶮, 𠮷, 𬌗 in real names) is drawn from the
first fallback font that has it (Debian's fonts-hanazono and fonts-babelstone-han); a character
no font has refuses the whole report (UnprintableText), so nothing is ever printed as a blank.
"""

from __future__ import annotations

import itertools
import logging
import os
import threading

from report_service.document import ReportDocument
from report_service.pdf_file import num as _n
from report_service.pdf_file import write_pdf
from report_service.pdf_font import CODES_PER_FONT, FontChain, FontFace, SubsetFont
from report_service.pdf_layout import (
    BODY_BOTTOM,
    COL_X,
    HEAD_H,
    LEADING,
    PAD_X,
    PAD_Y,
    PAGE_W,
    QR_SIZE,
    SIZE,
    TOP,
    X0,
    X3,
    Header,
    Page,
    Row,
    paginate,
)
from report_service.qr import qr_mask

log = logging.getLogger("report_service")

__all__ = [
    "DEFAULT_FONT_PATH",
    "FALLBACKS_ENV",
    "FALLBACK_FONT_PATHS",
    "FONT_ENV",
    "FontNotFoundError",
    "UnprintableText",
    "render_report_pdf",
    "resolve_font_chain",
    "resolve_font_path",
]

DEFAULT_FONT_PATH = "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc"
FONT_ENV = "REPORT_FONT"
# Fallbacks in order, from Debian packages: HanaMinA (fonts-hanazono: URO, Ext A, part of B),
# HanaMinB (Ext B-F), BabelStone Han (fonts-babelstone-han: part of Ext G and H).
FALLBACK_FONT_PATHS = (
    "/usr/share/fonts/truetype/hanazono/HanaMinA.ttf",
    "/usr/share/fonts/truetype/hanazono/HanaMinB.ttf",
    "/usr/share/fonts/truetype/babelstone/BabelStoneHan.ttf",
)
FALLBACKS_ENV = "REPORT_FONT_FALLBACKS"  # paths separated by ":", empty for none
assert BODY_BOTTOM > 58.0  # the footer rule sits below the table

# Characters given codes first in every report, so that their subset fonts repeat report to
# report: ASCII, the template's own words, and the labels of record kinds.
_STABLE_CHARS = (
    "".join(chr(c) for c in range(32, 127))
    + "报告编号：核验码：出具时间：有效期至：主体名称：统一社会信用代码：主体类型：查询期间：扫码核验"
    + "证明范围：行政区域内"
    + "序号领域结论自至，该领域无违法违规记录有条记录（续）部门：名称：名单：文号：已于信用修复"
    + "合计：查询个领域，共条记录本报告由出具，可扫描二维码或凭核验码核验真伪出具平台：第页共页　"
    + "行政处罚严重失信主体名单经营异常名录社会保险费欠缴住房公积金年月日、〔〕．－"
)
_STABLE_CACHE_SIZE = 32
_LINE_CACHE_SIZE = 20_000


class FontNotFoundError(FileNotFoundError):
    """No CJK TrueType font to embed in the report."""


class UnprintableText(ValueError):
    """The report holds characters that no font of the chain can draw."""

    def __init__(self, chars: list[str]) -> None:
        self.chars = chars
        super().__init__("cannot print " + ", ".join(f"U+{ord(c):04X}" for c in chars))


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


def resolve_font_chain(font_path: str | None = None) -> tuple[str, ...]:
    """The main font (resolve_font_path), then the fallbacks that are installed: those of
    $REPORT_FONT_FALLBACKS when it is set, else FALLBACK_FONT_PATHS."""
    named = os.environ.get(FALLBACKS_ENV)
    candidates = FALLBACK_FONT_PATHS if named is None else [p for p in named.split(":") if p]
    fallbacks = [os.path.realpath(p) for p in candidates if os.path.isfile(p)]
    if named is None and len(fallbacks) < len(candidates):
        log.warning(
            "fallback fonts missing (%s): rare characters will refuse reports; install "
            "fonts-hanazono and fonts-babelstone-han",
            ", ".join(p for p in candidates if not os.path.isfile(p)),
        )
    return (resolve_font_path(font_path), *fallbacks)


def _font_chain(font_path: str | None) -> tuple[str, ...]:
    """resolve_font_chain, looked up once per configuration: a render should not stat and
    resolve four font paths (~0.3 ms) every time."""
    key = (
        font_path,
        os.environ.get(FONT_ENV),
        os.environ.get(FALLBACKS_ENV),
        DEFAULT_FONT_PATH,
        FALLBACK_FONT_PATHS,
    )
    found = _resolved.get(key)
    if found is None:
        found = _resolved[key] = resolve_font_chain(font_path)  # raises: nothing is kept
    return found


_resolved: dict[tuple[object, ...], tuple[str, ...]] = {}
_font_lock = threading.Lock()
_faces: dict[str, FontFace] = {}
_chains: dict[tuple[str, ...], FontChain] = {}


def _get_chain(paths: tuple[str, ...]) -> FontChain:
    chain = _chains.get(paths)
    if chain is None:
        with _font_lock:
            chain = _chains.get(paths)
            if chain is None:
                chain = _chains[paths] = FontChain(paths, primary=_get_face_locked(paths[0]))
    return chain


def _get_face_locked(path: str) -> FontFace:
    face = _faces.get(path)
    if face is None:
        face = _faces[path] = FontFace(path)
    return face


def _get_face(path: str) -> FontFace:
    face = _faces.get(path)
    if face is None:
        with _font_lock:  # parsing the TTC takes ~150 ms: once per process and path
            face = _get_face_locked(path)
    return face


# ---------------------------------------------------------------------------------- glyph codes


class _StableFonts:
    """The subset fonts of one template, with a memo of the encoded runs of lines drawn with
    their characters only. The template's characters come in two groups, each in fonts of its
    own: ASCII, labels, title, platform and region name (the same for every report of a region),
    then the domain names (which follow the domains a report covers)."""

    def __init__(self, face: FontFace, groups: list[list[str]]) -> None:
        self.fonts: list[SubsetFont] = []
        self.codes: dict[str, tuple[int, int]] = {}
        for chars in groups:
            for start in range(0, len(chars), CODES_PER_FONT):
                chunk = chars[start : start + CODES_PER_FONT]
                n = len(self.fonts)
                self.codes.update((ch, (n, i)) for i, ch in enumerate(chunk, 1))
                self.fonts.append(face.subset(chunk, 9))
        if not self.fonts:
            self.fonts.append(face.subset([" "], 9))
        self.lines: dict[tuple[str, float], tuple[int, str, int, bool]] = {}
        self.serial = next(_serials)  # never reused: keys what rows cache of their drawing


_serials = itertools.count()
_stable_lock = threading.Lock()
_stables: dict[tuple[str, str, tuple[str, ...]], _StableFonts] = {}


def _stable_fonts(chain: FontChain, doc: ReportDocument) -> _StableFonts:
    """Template characters the main font has; any others come as the report's own."""
    face = chain.primary
    base = _STABLE_CHARS + doc.title + doc.platform_name + doc.region_name  # same for a region
    names = tuple(d.name for d in doc.domains)
    key = (face.path, base, names)
    found = _stables.get(key)
    if found is None:
        first = [ch for ch in dict.fromkeys(base) if face.has(ch)]
        seen = set(first)
        second = [ch for ch in dict.fromkeys("".join(names)) if ch not in seen and face.has(ch)]
        found = _StableFonts(face, [first, second])
        with _stable_lock:
            if len(_stables) >= _STABLE_CACHE_SIZE:
                _stables.pop(next(iter(_stables)))
            _stables[key] = found
    return found


class _Codes:
    """One report's character codes: the template's, then its own in order of first use, in
    subsets of the face that draws each (the main font's, a fallback's)."""

    def __init__(self, chain: FontChain, stable: _StableFonts) -> None:
        self.chain = chain
        self.stable = stable
        self.codes = dict(stable.codes)  # and the report's own, as they come
        self.own: list[tuple[FontFace, list[str]]] = []  # the report's own subsets, in order
        self._filling: dict[str, int] = {}  # face path -> its subset being filled

    def shown(self, text: str, size: float) -> tuple[int, str, int, bool]:
        """Operators that show text: (first font, "<codes> Tj" with any font changes, last font,
        whether the text uses characters of this report's own fonts)."""
        key = (text, size)
        found = self.stable.lines.get(key)
        if found is not None:
            return found
        codes = self.codes
        runs: list[tuple[int, bytearray]] = []
        font = -1
        for ch in text:
            fc = codes.get(ch) or self._assign(ch)
            if fc[0] != font:
                font = fc[0]
                runs.append((font, bytearray()))
            runs[-1][1].append(fc[1])
        size_s = _n(size)
        ops = [f"<{runs[0][1].hex()}> Tj"]
        ops += [f"/F{f + 1} {size_s} Tf <{buf.hex()}> Tj" for f, buf in runs[1:]]
        n_stable = len(self.stable.fonts)
        mine = any(f >= n_stable for f, _ in runs)
        found = (runs[0][0], " ".join(ops), runs[-1][0], mine)
        if not mine and len(self.stable.lines) < _LINE_CACHE_SIZE:
            self.stable.lines[key] = found
        return found

    def _assign(self, ch: str) -> tuple[int, int]:
        face = self.chain.face_for(ch)
        if face is None:  # render_report_pdf checked the text first: never drawn as a blank
            raise UnprintableText([ch])
        k = self._filling.get(face.path)
        if k is None or len(self.own[k][1]) >= CODES_PER_FONT:
            k = self._filling[face.path] = len(self.own)
            self.own.append((face, []))
        chars = self.own[k][1]
        chars.append(ch)
        fc = self.codes[ch] = (len(self.stable.fonts) + k, len(chars))
        return fc

    def fonts(self) -> list[SubsetFont]:
        return self.stable.fonts + [face.subset(chars, 1) for face, chars in self.own]


# -------------------------------------------------------------------------------------- drawing


class _Canvas:
    """One page's content: graphics first, then all its text in one text object."""

    def __init__(self, codes: _Codes) -> None:
        self.codes = codes
        self.ops: list[str] = []
        self.text: list[str] = []
        self._font = (-1, 0.0)

    def put(self, x: float, y: float, size: float, text: str) -> None:
        if not text:
            return
        first, shown, last, _ = self.codes.shown(text, size)
        if (first, size) != self._font:
            self.text.append(f"1 0 0 1 {_n(x)} {_n(y)} Tm /F{first + 1} {_n(size)} Tf {shown}")
        else:
            self.text.append(f"1 0 0 1 {_n(x)} {_n(y)} Tm {shown}")
        self._font = (last, size)

    def row(self, x: float, y: float, row: Row) -> None:
        """A table row's text, lines placed relative to its first: the same for every report."""
        found = row.drawn.get(self.codes.stable.serial)
        if found is None:
            found = self._row_text(row)
        shown, last = found
        self.text.append(f"1 0 0 1 {_n(x)} {_n(y)} Tm {shown}")
        self._font = (last, SIZE)

    def _row_text(self, row: Row) -> tuple[str, int]:
        ops: list[str] = []
        at_x, at_y, font, mine = 0.0, 0.0, -1, False
        for col, cell in enumerate(row.cells):
            for n, ln in enumerate(cell):
                if not ln.text:
                    continue
                dx, dy = COL_X[col] - X0 + ln.dx, -n * LEADING
                if (dx, dy) != (at_x, at_y):
                    ops.append(f"{_n(dx - at_x)} {_n(dy - at_y)} Td")
                    at_x, at_y = dx, dy
                first, shown, last, own = self.codes.shown(ln.text, SIZE)
                if first != font:
                    ops.append(f"/F{first + 1} {_n(SIZE)} Tf")
                ops.append(shown)
                font, mine = last, mine or own
        found = (" ".join(ops), font)
        if not mine:
            if len(row.drawn) >= 8:  # entries of template sets since dropped
                row.drawn.clear()
            row.drawn[self.codes.stable.serial] = found
        return found

    def center(self, y: float, size: float, text: str) -> None:
        self.put((PAGE_W - self.codes.chain.width(text, size)) / 2, y, size, text)

    def right(self, x: float, y: float, size: float, text: str) -> None:
        self.put(x - self.codes.chain.width(text, size), y, size, text)

    def lines(self, segments: list[tuple[float, float, float, float]]) -> None:
        n = _n
        self.ops += [f"{n(a)} {n(b)} m {n(c)} {n(d)} l" for a, b, c, d in segments]
        self.ops.append("S")

    def content(self) -> bytes:
        body = "\n".join([*self.ops, "0 g BT", *self.text, "ET"])
        return body.encode("latin-1")


def _draw_qr(c: _Canvas, data: str, x: float, top: float, size: float) -> None:
    count, mask = qr_mask(data)
    # One 1-bit image mask, a sample per module (dark = 1), scaled up without interpolation:
    # sharp modules at any resolution, and far cheaper to write than a path of rectangles.
    c.ops.append(
        f"q {_n(size)} 0 0 {_n(size)} {_n(x)} {_n(top - size)} cm 0 g\n"
        f"BI /W {count} /H {count} /IM true /BPC 1 /D [1 0] /F /AHx ID\n{mask.hex()}>\nEI Q"
    )


def _draw_header(c: _Canvas, doc: ReportDocument, h: Header) -> None:
    for dy, size, s in h.centered:
        c.center(TOP - dy, size, s)
    for x, dy, size, s in h.texts:
        c.put(x, TOP - dy, size, s)
    box_dy, box_h = h.box
    c.ops.append(f"0.8 w 0 G {_n(X0)} {_n(TOP - box_dy - box_h)} {_n(X3 - X0)} {_n(box_h)} re S")
    qr_x, qr_dy = h.qr
    _draw_qr(c, doc.verify_url, qr_x, TOP - qr_dy, QR_SIZE)


def _draw_table(c: _Canvas, page: Page) -> None:
    top = page.table_top
    if top is None or not page.rows:
        return
    last_row, last_y = page.rows[-1]
    bottom = last_y - last_row.height
    c.ops.append(f"0.9 g {_n(X0)} {_n(top - HEAD_H)} {_n(X3 - X0)} {_n(HEAD_H)} re f")
    for col, label in enumerate(("序号", "领域", "结论")):
        c.put(COL_X[col] + PAD_X, top - PAD_Y - SIZE, SIZE, label)
    c.ops.append("0 G 0.6 w")
    c.lines(
        [(x, top, x, bottom) for x in COL_X]
        + [(X0, top, X3, top), (X0, top - HEAD_H, X3, top - HEAD_H), (X0, bottom, X3, bottom)]
    )
    firsts: list[tuple[float, float, float, float]] = []
    records: list[tuple[float, float, float, float]] = []
    for k, (row, y) in enumerate(page.rows):
        if k:  # the header's bottom rule closes the first row
            (records if row.record else firsts).append((COL_X[2] if row.record else X0, y, X3, y))
        c.row(X0 + PAD_X, y - PAD_Y - SIZE, row)
    if firsts:
        c.lines(firsts)
    if records:
        c.ops.append("0.6 G 0.3 w")
        c.lines(records)


def _draw_footer(c: _Canvas, doc: ReportDocument, number: int, count: int) -> None:
    c.ops.append(f"0.5 G 0.5 w {_n(X0)} 58 m {_n(X3)} 58 l S")
    c.center(46.0, 8.0, f"本报告由{doc.platform_name}出具，可扫描二维码或凭核验码核验真伪")
    c.put(X0, 32.0, 8.0, f"出具平台：{doc.platform_name}　报告编号：{doc.report_id}")
    c.right(X3, 32.0, 8.0, f"第{number}页 共{count}页")


def document_text(doc: ReportDocument) -> str:
    """Every piece of the document's own text that the report prints."""
    parts = [
        doc.title, doc.platform_name, doc.region_name, doc.entity_name, doc.uscc,
        doc.entity_kind_label, doc.report_id, doc.verification_code,
    ]  # fmt: skip
    for d in doc.domains:
        parts.append(d.name)
        for r in d.records:
            parts += [r.kind_label, r.agency, r.document_no, r.title, r.list_name or ""]
    return "".join(parts)


def _total_line(doc: ReportDocument, total: int) -> str:
    """合计 with the sections named: they are in the report whatever domains were chosen."""
    sections = "、".join(doc.section_names)
    also = f"及{sections}" if sections else ""
    return f"合计：查询{doc.domain_count}个领域{also}，共{total}条记录"


def render_report_pdf(doc: ReportDocument, font_path: str | None = None) -> bytes:
    """Render doc as an A4 PDF; the same doc always gives the same bytes. Raises
    UnprintableText, before any work, when a character is in none of the fonts."""
    chain = _get_chain(_font_chain(font_path))
    missing = chain.missing(document_text(doc))
    if missing:
        raise UnprintableText(missing)
    pages = paginate(chain, doc)
    codes = _Codes(chain, _stable_fonts(chain, doc))
    total = doc.total_records
    contents = []
    for page in pages:
        c = _Canvas(codes)
        if page.header is not None:
            _draw_header(c, doc, page.header)
        _draw_table(c, page)
        if page.total_y is not None:
            c.put(X0, page.total_y, 10.0, _total_line(doc, total))
        _draw_footer(c, doc, page.number, len(pages))
        contents.append(c.content())
    return write_pdf(doc, codes.fonts(), contents)
