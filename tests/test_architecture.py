"""What docs/architecture.md promises about the code: which package may import which (DESIGN §2),
identifiers on the standard library alone, and no module over 500 lines."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

# package -> the project packages it may import (besides itself)
ALLOWED = {
    "identifiers": set(),
    "devices": {"identifiers"},
    "offline_cache": {"identifiers"},
    "kiosk": {"devices", "offline_cache", "identifiers"},
    "screens": {"kiosk", "identifiers"},
    "provisioning": {"kiosk", "devices", "offline_cache", "identifiers"},
    "report_service": {"identifiers"},
}
# the demo harness lives in screens/ but starts simulators and reads the demo's queue
DEMO_HARNESS = {"screens/cli.py", "screens/demo.py", "screens/walkthrough.py"}
# every package of ours, the platform, its tests and the benchmarks included; the product's
# packages import neither of the last two (a test helper must not become a product dependency)
PACKAGES = (*ALLOWED, "tests", "benchmarks")
MAX_LINES = 500


def imported(path: Path) -> set[str]:
    """The top-level names of the absolute imports in `path`."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module.split(".")[0])
    return found


@pytest.mark.parametrize("package", sorted(ALLOWED))
def test_imports_go_one_way(package: str) -> None:
    wrong = []
    for path in sorted((ROOT / package).rglob("*.py")):
        name = str(path.relative_to(ROOT))
        allowed = ALLOWED[package] | {package}
        if name in DEMO_HARNESS:
            allowed |= {"devices", "offline_cache"}
        wrong += [f"{name} imports {m}" for m in imported(path) & (set(PACKAGES) - allowed)]
    assert wrong == []


def test_identifiers_need_only_the_standard_library() -> None:
    for path in (ROOT / "identifiers").rglob("*.py"):
        outside = imported(path) - set(sys.stdlib_module_names) - {"__future__"}
        assert outside == set(), path


def test_no_module_is_over_500_lines() -> None:
    long = {
        str(path.relative_to(ROOT)): lines
        for package in PACKAGES
        for path in (ROOT / package).rglob("*.py")
        if (lines := len(path.read_text(encoding="utf-8").splitlines())) > MAX_LINES
    }
    assert long == {}
