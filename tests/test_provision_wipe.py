"""`diagnostics` never ships personal data or keys; `wipe` refuses while requests wait, revokes the
terminal (the platform then answers it 401), destroys keys, queue and logs."""

from __future__ import annotations

import asyncio
import json
import tarfile
from collections import Counter
from pathlib import Path

import pytest

from kiosk.api import ApiSettings, ReportApi
from kiosk.errors import ApiError
from kiosk.identity import load_enrollment, load_key
from kiosk.signing import TerminalCredentials
from offline_cache import FileKeyProvider, OfflineStore
from provisioning.diagnostics import BundleNotClean, write_bundle

from .provision_support import CARD, Terminal

USCC = "91350100M000100Y43"
FOREIGN_2017 = "USA620180010100"  # a 2017 foreigner permanent residence card's number
PLANTED = [
    CARD["name"], CARD["id_number"], USCC, USCC.lower(), "13812345678", FOREIGN_2017,
    "-----BEGIN PRIVATE KEY-----",
]  # fmt: skip


def test_diagnostics_redact_planted_personal_data(kiosk_terminal: Terminal) -> None:
    t = kiosk_terminal
    t.enroll()
    key = (t.folder / "state" / "terminal.key").read_text()
    logs = t.folder / "state" / "logs"
    logs.mkdir()
    (logs / "kiosk.log").write_text(
        f"INFO card read for {CARD['name']} {CARD['id_number']} uscc={USCC} phone 13812345678\n"
        f"INFO typed uscc={USCC.lower()}\n"
        f"INFO card read {FOREIGN_2017}\n{key}\n"
        "INFO a4: job 12 completed\n"
    )
    out = t.folder / "diag.tar.gz"
    done = t.run("diagnostics", "--out", str(out))
    assert done.returncode == 0, done.stderr
    assert "已脱敏 redacted" in done.stdout and "id_number" in done.stdout
    with tarfile.open(out) as tar:
        names = tar.getnames()
        text = "".join(tar.extractfile(m).read().decode() for m in tar.getmembers() if m.isfile())  # type: ignore[union-attr]
    assert "diagnostics/logs/kiosk.log" in names and "diagnostics/config.toml" in names
    assert "job 12 completed" in text  # the useful part stays
    for secret in [*PLANTED, key.splitlines()[1]]:
        assert secret not in text, secret
    assert out.stat().st_mode & 0o077 == 0


def test_a_bundle_with_personal_data_left_is_refused_and_not_written(tmp_path: Path) -> None:
    out = tmp_path / "diag.tar.gz"
    with pytest.raises(BundleNotClean) as refused:
        write_bundle(
            out, {"devices.json": f'{{"detail": "{CARD["id_number"]}"}}'}, Counter(), "大厅"
        )
    assert "id_number" in refused.value.message and not out.exists()


def _store(t: Terminal) -> OfflineStore:
    state = t.folder / "state"
    return OfflineStore.open(
        state / "offline.db", FileKeyProvider(state / "offline.key", create=True)
    )


def test_wipe_refuses_while_requests_wait_then_revokes_and_destroys(
    kiosk_terminal: Terminal,
) -> None:
    t = kiosk_terminal
    t.enroll()
    store = _store(t)
    store.outbox.enqueue("report_request", "ticket-1", {"x": 1}, pii=True)
    store.close()
    state = t.folder / "state"
    enrollment = load_enrollment(state / "enrollment.json")
    assert enrollment is not None
    credentials = TerminalCredentials(enrollment.terminal_id, load_key(state / "terminal.key"))
    refused = t.run("wipe", "--yes")
    assert (
        refused.returncode == 6
        and "not delivered" in refused.stderr
        and "--discard-queue" in refused.stderr
    )
    assert (state / "terminal.key").exists()
    done = t.run("wipe", "--yes", "--discard-queue", "--json")
    assert done.returncode == 0, done.stderr
    record = json.loads(done.stdout)["erasure_record"]
    assert record["terminal"]["revoked"] is True and record["queue_discarded"] == 1
    destroyed = {Path(d["path"]).name for d in record["destroyed"]}
    assert {"terminal.key", "enrollment.json", "offline.db", "offline.key"} <= destroyed
    assert not (state / "terminal.key").exists() and not (state / "offline.db").exists()

    async def catalog() -> None:
        api = ReportApi(ApiSettings(t.platform.base_url, retries=0), credentials)
        try:
            await api.catalog()
        finally:
            await api.aclose()

    with pytest.raises(ApiError) as answer:  # the old key, kept by this test only
        asyncio.run(catalog())
    assert answer.value.status == 401
    again = t.run("wipe", "--yes")
    assert again.returncode == 4 and "nothing to wipe" in again.stderr
