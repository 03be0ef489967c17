"""The reference platform the offline tests run against: a few synthetic enterprises and the test's
own people; and the kiosk's log as a technician collects it."""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from kiosk.demo_rig import Platform


def seeded_platform(workdir: Path, seed: int, people: Sequence[str]) -> Platform:
    """Seeded and not yet started; `people` are import lines (JSON Lines)."""
    platform = Platform(str(workdir / "platform.db"), workdir)
    platform.cli(
        "seed", "--db", platform.db, "--region", "gansu", "--entities", "5", "--seed", str(seed)
    )
    lines = workdir / "people.jsonl"
    lines.write_text("\n".join(people) + "\n", encoding="utf-8")
    platform.cli("import", "--db", platform.db, str(lines))
    lines.unlink()  # the test's own input, not something the kiosk wrote (the privacy scan)
    return platform


@contextmanager
def kiosk_log(path: Path) -> Iterator[Path]:
    """Everything the kiosk logs at INFO and above, written to `path` while the block runs."""
    handler = logging.FileHandler(path, encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
    root = logging.getLogger()
    old_level = root.level
    root.setLevel(logging.INFO)
    root.addHandler(handler)
    try:
        yield path
    finally:
        root.removeHandler(handler)
        root.setLevel(old_level)
        handler.close()
