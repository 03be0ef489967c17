"""Draws a decoded receipt as a PNG, roughly as the thermal printer would, for people to look at.

Font A cells (12x24 dots per half-width column, 24x24 per Chinese character) at 203 dpi on the
printable width (384 dots on 58 mm paper, 576 on 80 mm). QR codes are re-encoded from their decoded
content with the `qrcode` package; raster images are drawn from their bits.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

from .decoded import DecodedReceipt, Feed, Line, QrCode, Raster
from .encoding import char_columns
from .layout import DOTS

if TYPE_CHECKING:
    from PIL import Image as PILImage
    from PIL import ImageDraw, ImageFont

CJK_FONT = "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc"
CELL_W, CELL_H = 12, 24  # Font A
LINE_GAP = 6  # default line spacing is 30 dots for 24-dot characters
MARGIN = 16  # white paper around the printable area


@lru_cache(maxsize=8)
def _font(scale: int) -> ImageFont.FreeTypeFont:
    from PIL import ImageFont

    return ImageFont.truetype(CJK_FONT, 22 * scale, index=0)  # 22 px glyphs fill a 24-dot cell


def _qr_image(qr: QrCode) -> PILImage.Image | None:
    import qrcode
    from qrcode import constants
    from qrcode.exceptions import DataOverflowError

    levels = {"L": constants.ERROR_CORRECT_L, "M": constants.ERROR_CORRECT_M}
    levels |= {"Q": constants.ERROR_CORRECT_Q, "H": constants.ERROR_CORRECT_H}
    code = qrcode.QRCode(error_correction=levels.get(qr.ec, constants.ERROR_CORRECT_L))
    code.box_size, code.border = qr.module, 0  # the printer adds no quiet zone of its own
    try:
        code.add_data(qr.data)
        code.make(fit=True)
    except (DataOverflowError, ValueError):
        return None
    image: PILImage.Image = code.make_image(fill_color="black", back_color="white").get_image()
    return image.convert("L")


def _raster_image(raster: Raster) -> PILImage.Image:
    from PIL import Image

    image = Image.frombytes("1", (raster.width_bytes * 8, raster.height), raster.bits)
    return Image.eval(image.convert("L"), lambda v: 255 - v)  # in "1" mode 1 is white


def _x(align: str, width: int, dots: int) -> int:
    left = {"left": 0, "center": (dots - width) // 2, "right": dots - width}[align]
    return MARGIN + max(0, left)


def render_png(receipt: DecodedReceipt, path: str | Path, *, paper_mm: int = 80) -> Path:
    """Write the receipt to `path` as a PNG; returns the path."""
    from PIL import Image, ImageDraw

    dots = DOTS[paper_mm]
    blocks: list[tuple[int, Line | PILImage.Image | None, str]] = []  # (height, what, align)
    for element in receipt.elements:
        if isinstance(element, Line):
            blocks.append((CELL_H * element.height + LINE_GAP, element, element.align))
        elif isinstance(element, Feed):
            blocks.append(((CELL_H + LINE_GAP) * element.lines + element.dots, None, "left"))
        else:
            picture = _qr_image(element) if isinstance(element, QrCode) else _raster_image(element)
            if picture is None:  # a QR the qrcode package cannot rebuild: show a crossed box
                picture = Image.new("L", (96, 96), 255)
                ImageDraw.Draw(picture).rectangle((0, 0, 95, 95), outline=0, width=3)
                ImageDraw.Draw(picture).line((0, 0, 95, 95), fill=0, width=3)
            blocks.append((picture.height + LINE_GAP, picture, element.align))
    height = min(sum(h for h, _, _ in blocks) + 2 * MARGIN, 60000)
    page = Image.new("L", (dots + 2 * MARGIN, height), 255)
    draw = ImageDraw.Draw(page)
    y = MARGIN
    for block_height, what, align in blocks:
        if isinstance(what, Line):
            _draw_line(page, draw, what, y, dots)
        elif what is not None:
            page.paste(what, (_x(align, what.width, dots), y))
        y += block_height
    if receipt.cut is not None:  # the cut edge, dashed
        for x in range(0, page.width, 12):
            draw.line((x, page.height - 4, x + 6, page.height - 4), fill=96, width=2)
    target = Path(path)
    page.save(target, format="PNG")
    return target


def _squeezed(
    page: PILImage.Image,
    ch: str,
    font: ImageFont.FreeTypeFont,
    at: tuple[int, int],
    cell: int,
    height: int,
    stroke: int,
) -> None:
    """One glyph drawn narrower, to keep a one-dot gap to its neighbours on both sides."""
    from PIL import Image, ImageDraw

    wide = int(font.getlength(ch)) + 2 + 2 * stroke
    glyph = Image.new("L", (wide, height), 0)
    ImageDraw.Draw(glyph).text((1 + stroke, 0), ch, font=font, fill=255, stroke_width=stroke)
    page.paste(0, (at[0] + 1, at[1]), mask=glyph.resize((cell - 2, height)))


def _draw_line(
    page: PILImage.Image, draw: ImageDraw.ImageDraw, line: Line, y: int, dots: int
) -> None:
    width = sum(char_columns(ch) * CELL_W * span.width for span in line.spans for ch in span.text)
    x = _x(line.align, width, dots)
    for span in line.spans:
        font = _font(max(1, min(8, span.height)))
        for ch in span.text:
            cell = char_columns(ch) * CELL_W * span.width
            glyph_w = draw.textlength(ch, font=font)
            stroke = 1 if span.bold else 0
            if glyph_w <= cell - 2:
                draw.text((x + (cell - glyph_w) / 2, y), ch, font=font, fill=0, stroke_width=stroke)
            else:  # W or M is wider than its 12-dot column: squeeze it in, as Font A is narrow
                _squeezed(page, ch, font, (x, y), cell, CELL_H * span.height, stroke)
            if span.underline:
                bottom = y + CELL_H * span.height
                draw.line((x, bottom, x + cell, bottom), fill=0, width=2)
            x += cell
