"""The reference platform the offline tests run against: a few synthetic enterprises and the test's
own people."""

from __future__ import annotations

from collections.abc import Sequence
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
