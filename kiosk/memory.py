"""Keeping a kiosk's resident memory flat over months of sessions.

Each session allocates and frees a few megabytes in several threads (the UI, the journey's loop,
the device watchers). glibc gives every thread that allocates its own arena, up to eight per core,
and keeps freed pages inside them: measured over 300 sessions, the memory in use stayed level
while the free space held in arenas, and with it the resident size, kept growing. Two arenas and
handing free pages back after each session keep it level.

Blocks above malloc's mmap threshold (a label's texture, 1-2 MiB) get mappings of their own,
returned when freed. glibc raises the threshold to the largest such block freed, after which
textures came from the heap and left holes in it: free space in the arenas grew 6.9 -> 11.5 MiB
over 180 sessions (benchmarks/RESULTS.md). A fixed threshold kept it at 1.2 MiB. Elsewhere than
glibc all of this is a no-op.
"""

from __future__ import annotations

import ctypes
import functools
import logging

log = logging.getLogger(__name__)

M_ARENA_MAX = -8  # from glibc's malloc.h
M_MMAP_THRESHOLD = -3
ARENAS = 2
MMAP_THRESHOLD = 128 * 1024  # glibc's own starting value, no longer raised as blocks are freed


@functools.cache
def _libc() -> ctypes.CDLL | None:
    try:
        libc = ctypes.CDLL("libc.so.6")
        libc.mallopt, libc.malloc_trim  # noqa: B018 - both exist on glibc only
    except (OSError, AttributeError):
        return None
    return libc


def tune_malloc(arenas: int = ARENAS, mmap_threshold: int = MMAP_THRESHOLD) -> bool:
    """Cap glibc's malloc arenas and fix its mmap threshold; call before the process starts its
    threads."""
    libc = _libc()
    if libc is None:
        log.info("not glibc: malloc left as it is")
        return False
    done = True
    for name, param, value in (
        ("M_ARENA_MAX", M_ARENA_MAX, arenas),
        ("M_MMAP_THRESHOLD", M_MMAP_THRESHOLD, mmap_threshold),
    ):
        if libc.mallopt(param, value) != 1:  # 1: set
            log.warning("mallopt %s=%d refused", name, value)
            done = False
    return done


def release_free_memory() -> bool:
    """Give the free pages malloc holds back to the system (a few ms; between sessions)."""
    libc = _libc()
    if libc is None:
        return False
    libc.malloc_trim(0)
    return True


__all__ = ["release_free_memory", "tune_malloc"]
