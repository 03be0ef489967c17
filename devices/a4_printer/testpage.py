"""A one-page A4 test PDF written by hand, so the self-test needs no PDF library."""

from __future__ import annotations

import time


def _escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")


def self_test_page(lines: tuple[str, ...] = ()) -> bytes:
    """A4 portrait, Helvetica; `lines` are ASCII technician notes (queue, time)."""
    body = ["Kiosk A4 printer self-test", time.strftime("%Y-%m-%d %H:%M:%S"), *lines]
    ops = ["BT", "/F1 18 Tf", "72 770 Td", "22 TL"]
    ops += [f"({_escape(line.encode('ascii', 'replace').decode())}) Tj T*" for line in body]
    ops += ["ET", "72 72 451 698 re S"]  # a frame shows the printable area and page edges
    stream = "\n".join(ops).encode("ascii")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] "
        b"/Resources << /Font << /F1 4 0 R >> >> /Contents 5 0 R >>",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
    ]
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, obj in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + obj + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    return bytes(out)
