"""The audit file keeps a bounded size: two files at most, the newest events in the current one."""

from __future__ import annotations

import json
from pathlib import Path

from kiosk.audit import AuditLog


def test_the_audit_file_rolls_over_and_stays_bounded(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    audit = AuditLog(path, "T-1", max_bytes=2_000)
    for n in range(500):
        audit("step_shown", n=str(n))
    files = sorted(p.name for p in tmp_path.iterdir())
    assert files == ["audit.jsonl", "audit.jsonl.1"]
    assert sum(p.stat().st_size for p in tmp_path.iterdir()) < 2 * 2_000 + 200
    last = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    assert last[-1]["n"] == "499" and last[-1]["terminal"] == "T-1"
    assert len(audit.recent) == 200 and audit.recent[-1]["n"] == "499"
