"""Fixtures that boot the real platform: the CLI seeds a SQLite file, `serve` runs on loopback."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from .platform_client import ServiceProcess, TerminalClient, cli, start_service
from .provision_support import kiosk_terminal  # noqa: F401 - the provisioning tests' terminal


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Longest work first, so that `--dist loadscope` never leaves one worker running a long
    module alone at the end: modules marked `runs_long(minutes)` by those minutes, then the
    rest with the most tests first."""
    tests = Counter(item.nodeid.split("::")[0] for item in items)
    first_seen = {path: i for i, path in enumerate(tests)}

    def order(item: pytest.Item) -> tuple[float, int, int]:
        path = item.nodeid.split("::")[0]
        mark = item.get_closest_marker("runs_long")
        minutes = float(mark.kwargs.get("minutes", mark.args[0] if mark.args else 1)) if mark else 0
        return -minutes, -tests[path], first_seen[path]

    items.sort(key=order)


@pytest.fixture(scope="session")
def platform(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServiceProcess]:
    workdir = tmp_path_factory.mktemp("platform")
    db = str(workdir / "platform.db")
    cli("seed", "--db", db, "--region", "gansu", "--entities", "40", "--seed", "7")
    service = start_service(db, workdir)
    yield service
    service.stop()


def enroll(platform: ServiceProcess, region: str, hall: str = "hall-test") -> TerminalClient:
    token = cli("terminals", "add-token", *platform.db_args(), "--hall", hall, "--region", region)
    return TerminalClient.enroll(platform.base_url, token.stdout.strip())


def import_jsonl(platform: ServiceProcess, path: Path, lines: list[str]) -> None:
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    cli("import", *platform.db_args(), str(path))


@pytest.fixture(scope="session")
def gansu_terminal(platform: ServiceProcess) -> TerminalClient:
    return enroll(platform, "gansu")
