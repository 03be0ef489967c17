"""What may be submitted: a PDF (bytes or a file) and a job name free of personal data.

The report PDF holds personal data, so bytes go to a private temp file (mode 0600) that lives only
while the job is being sent to cupsd.
"""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from ..errors import HardwareError, InputRejected

PDF_MAGIC = b"%PDF-"
HEADER_WINDOW = 1024  # PDF readers accept the header within the first 1024 bytes

# job names reach the printer (PJL "JOB NAME", front panels, CUPS' job history): plain ASCII only,
# no long digit runs (ID card and phone numbers), nothing that can hold a Chinese name
_JOB_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 ._:-]{0,63}$")
_DIGIT_RUN = re.compile(r"\d{11,}")


def check_job_name(name: object) -> str:
    if not isinstance(name, str) or not _JOB_NAME.match(name):
        raise InputRejected(
            "job name must be 1-64 ASCII letters, digits, space or . _ : - (it is shown on the "
            "printer and kept in CUPS' job history, so it must not carry personal data)",
            code="a4.job_name_rejected",
        )
    if _DIGIT_RUN.search(name):
        raise InputRejected(
            "job name contains a run of 11 or more digits (looks like an ID card or phone number)",
            code="a4.job_name_rejected",
        )
    return name


def check_pdf_bytes(data: bytes, max_bytes: int) -> None:
    if not data:
        raise InputRejected("the document is empty", code="a4.not_pdf")
    if len(data) > max_bytes:
        raise InputRejected(
            f"the document has {len(data)} bytes, over the limit of {max_bytes}",
            code="a4.pdf_too_large",
        )
    if PDF_MAGIC not in data[:HEADER_WINDOW]:
        raise InputRejected("the document is not a PDF (no %PDF- header)", code="a4.not_pdf")


def check_pdf_path(path: Path, max_bytes: int) -> Path:
    """The file must exist, be a regular readable file and start like a PDF."""
    try:
        st = path.stat()
    except FileNotFoundError:
        raise InputRejected(
            f"PDF file {str(path)!r} does not exist", code="a4.pdf_missing"
        ) from None
    except OSError as exc:
        raise InputRejected(
            f"PDF file {str(path)!r}: {exc.strerror}", code="a4.pdf_unreadable"
        ) from None
    if not path.is_file():
        raise InputRejected(f"{str(path)!r} is not a regular file", code="a4.pdf_missing")
    if st.st_size > max_bytes:
        raise InputRejected(
            f"PDF file {str(path)!r} has {st.st_size} bytes, over the limit of {max_bytes}",
            code="a4.pdf_too_large",
        )
    try:
        with path.open("rb") as fh:
            head = fh.read(HEADER_WINDOW)
    except OSError as exc:
        raise InputRejected(
            f"PDF file {str(path)!r}: {exc.strerror}", code="a4.pdf_unreadable"
        ) from None
    if PDF_MAGIC not in head:
        raise InputRejected(f"{str(path)!r} is not a PDF (no %PDF- header)", code="a4.not_pdf")
    return path


@contextmanager
def spooled_pdf(
    pdf: bytes | bytearray | Path | str, tmp_dir: Path | None, max_bytes: int
) -> Iterator[Path]:
    """A path cupsd can be given; bytes are written to a 0600 temp file removed on exit."""
    if isinstance(pdf, str | Path):
        yield check_pdf_path(Path(pdf), max_bytes)
        return
    if not isinstance(pdf, bytes | bytearray):
        raise InputRejected(
            f"the document must be bytes or a file path, got {type(pdf).__name__}",
            code="a4.not_pdf",
        )
    data = bytes(pdf)
    check_pdf_bytes(data, max_bytes)
    try:
        fd, name = tempfile.mkstemp(prefix="a4-job-", suffix=".pdf", dir=tmp_dir)  # mode 0600
    except OSError as exc:
        raise HardwareError(
            f"cannot create a temp file: {exc.strerror}", code="a4.tmp_failed"
        ) from None
    path = Path(name)
    try:
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
        except OSError as exc:
            raise HardwareError(
                f"cannot write the temp file: {exc.strerror}", code="a4.tmp_failed"
            ) from None
        yield path
    finally:
        path.unlink(missing_ok=True)
