"""What every benchmark measures the same way: percentiles, and the CPU seconds of processes
and of the whole machine (from /proc)."""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Iterable
from pathlib import Path
from urllib.parse import urlsplit

CLK_TCK = os.sysconf("SC_CLK_TCK")


def percentile(values: Iterable[float], q: float) -> float:
    """The nearest rank: the smallest value that at least a share q of the values do not exceed
    (rank ⌈q · n⌉ of the sorted values), so a p99 is a measured value, never below the true one;
    NaN for none."""
    ordered = sorted(values)
    if not ordered:
        return math.nan
    return ordered[min(len(ordered), max(1, math.ceil(q * len(ordered)))) - 1]


def stat_fields(pid: int) -> list[str] | None:
    """/proc/PID/stat from field 3 (state) on, None once the process has gone."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return raw[raw.rindex(")") + 2 :].split()  # the command name may hold spaces and brackets


def proc_cpu(pid: int) -> float:
    """CPU seconds the process has used (user and system), 0 once it has gone."""
    f = stat_fields(pid)
    return (int(f[11]) + int(f[12])) / CLK_TCK if f else 0.0  # fields 14 utime, 15 stime


def ended_children_cpu(pid: int) -> float:
    """CPU seconds of the process's children that have ended and been waited for."""
    f = stat_fields(pid)
    return (int(f[13]) + int(f[14])) / CLK_TCK if f else 0.0  # fields 16 cutime, 17 cstime


def process_tree(root: int) -> list[int]:
    """`root` and every process descended from it, now."""
    parents: dict[int, list[int]] = {}
    for pid in pids():
        if f := stat_fields(pid):
            parents.setdefault(int(f[1]), []).append(pid)
    tree, todo = [], [root]
    while todo:
        pid = todo.pop()
        tree.append(pid)
        todo.extend(parents.get(pid, []))
    return tree


def tree_cpu(root: int) -> float:
    """CPU seconds of `root` and its descendants now running."""
    return sum(proc_cpu(pid) for pid in process_tree(root))


def pids() -> list[int]:
    return [int(entry.name) for entry in Path("/proc").iterdir() if entry.name.isdigit()]


def cmdline(pid: int) -> str:
    try:
        return (
            Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        )
    except OSError:
        return ""


def machine_cpu() -> float:
    """CPU seconds every core of the machine has been busy (not idle, waiting for I/O, or
    stolen by the hypervisor for other guests)."""
    user, nice, system, _idle, _iowait, irq, softirq = machine_ticks()[:7]
    return (user + nice + system + irq + softirq) / CLK_TCK


def stolen_cpu() -> float:
    """CPU seconds the hypervisor gave this machine's cores to other guests (when it says so:
    a KVM guest does not always see it)."""
    return machine_ticks()[7] / CLK_TCK


def machine_ticks() -> list[int]:
    with open("/proc/stat") as stat:
        return [int(n) for n in stat.readline().split()[1:9]]


def database_cpu(url: str) -> Callable[[], float]:
    """A reading of the CPU seconds of the PostgreSQL server at `url` (its postmaster found by
    its port, its ended children included); SQLite works inside its callers: 0 there, and NaN
    when the server cannot be told apart."""
    port = urlsplit(url).port if url.startswith("postgresql") else None
    if port is None:
        return lambda: 0.0
    found = {pid for pid in pids() if f"-p {port} " in cmdline(pid) + " "}
    roots = [pid for pid in found if _parent(pid) not in found]
    if len(roots) != 1:
        return lambda: math.nan
    root = roots[0]
    return lambda: tree_cpu(root) + ended_children_cpu(root)


def _parent(pid: int) -> int:
    f = stat_fields(pid)
    return int(f[1]) if f else 0
