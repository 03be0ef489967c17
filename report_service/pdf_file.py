"""The PDF file around a report's pages: catalog, page tree, info, fonts, xref and trailer."""

from __future__ import annotations

import hashlib
import zlib

from report_service.document import ReportDocument
from report_service.pdf_font import SubsetFont
from report_service.pdf_layout import PAGE_H, PAGE_W, local_time

__all__ = ["num", "write_pdf"]

_numbers: dict[float, str] = {}


def num(x: float) -> str:
    """x as a PDF number: at most three decimals, no trailing zeros (memoised)."""
    s = _numbers.get(x)
    if s is None:
        s = f"{x:.3f}".rstrip("0").rstrip(".")
        if len(_numbers) < 50_000:
            _numbers[x] = s
    return s


def _text_string(s: str) -> str:
    """A PDF text string in UTF-16BE with its byte order mark (Chinese titles and names)."""
    return "<FEFF" + s.encode("utf-16-be").hex().upper() + ">"


def write_pdf(doc: ReportDocument, fonts: list[SubsetFont], contents: list[bytes]) -> bytes:
    """Objects: 1 catalog, 2 page tree, 3 info, 4 resources, then fonts (4 each), then pages."""
    out = [b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n"]
    pos = len(out[0])
    offsets: list[int] = []

    def add(data: bytes, obj_offsets: tuple[int, ...] = (0,)) -> None:
        nonlocal pos
        offsets.extend(pos + o for o in obj_offsets)
        out.append(data)
        pos += len(data)

    first_page = 5 + 4 * len(fonts)
    kids = " ".join(f"{first_page + 2 * i} 0 R" for i in range(len(contents)))
    stamp = local_time(doc.issued_at).strftime("(D:%Y%m%d%H%M%S+08'00')")
    add(b"1 0 obj\n<< /Pages 2 0 R /Type /Catalog >>\nendobj\n")
    add(f"2 0 obj\n<< /Count {len(contents)} /Kids [{kids}] /Type /Pages >>\nendobj\n".encode())
    info = (
        f"3 0 obj\n<< /Author {_text_string(doc.platform_name)} /CreationDate {stamp} "
        f"/Creator (report_service) /ModDate {stamp} /Producer (report_service) "
        f"/Subject {_text_string(doc.entity_name)} "
        f"/Title {_text_string(f'{doc.title} {doc.report_id}')} >>\nendobj\n"
    )
    add(info.encode("ascii"))
    names = " ".join(f"/F{i + 1} {5 + 4 * i} 0 R" for i in range(len(fonts)))
    add(f"4 0 obj\n<< /Font << {names} >> /ProcSet [/PDF /Text] >>\nendobj\n".encode())
    for i, font in enumerate(fonts):
        add(*font.objects(5 + 4 * i))
    box = f"[0 0 {num(round(PAGE_W, 4))} {num(round(PAGE_H, 4))}]"
    for i, content in enumerate(contents):
        page, stream = first_page + 2 * i, first_page + 2 * i + 1
        add(
            f"{page} 0 obj\n<< /Contents {stream} 0 R /MediaBox {box} /Parent 2 0 R "
            f"/Resources 4 0 R /Type /Page >>\nendobj\n".encode()
        )
        packed = zlib.compress(content, 1)  # level 6: 10% smaller, 40% slower
        add(
            f"{stream} 0 obj\n<< /Filter /FlateDecode /Length {len(packed)} >>\nstream\n".encode()
            + packed
            + b"\nendstream\nendobj\n"
        )
    size = len(offsets) + 1
    xref = [f"xref\n0 {size}\n0000000000 65535 f \n"] + [f"{o:010d} 00000 n \n" for o in offsets]
    ident = hashlib.md5(
        f"{doc.report_id}|{doc.verification_code}|{doc.issued_at.isoformat()}".encode()
    ).hexdigest()
    trailer = (
        f"trailer\n<< /ID [<{ident}> <{ident}>] /Info 3 0 R /Root 1 0 R /Size {size} >>\n"
        f"startxref\n{pos}\n%%EOF\n"
    )
    out.append(("".join(xref) + trailer).encode("ascii"))
    return b"".join(out)
