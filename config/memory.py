"""A server process's heap: freed memory given back to the system, and a worker that has grown
past its bound replaced. Set up by what starts a server (gunicorn's hooks, config/gunicorn.py),
never by library code.

Why: a 40 MP upload decodes to 160 MB of pixels (Pillow allocates them in 16 MB blocks) and
glibc's malloc kept most of it. Once a freed block that was mmap'd is given back, glibc raises
its mmap threshold to that block's size (its "dynamic threshold"), so later blocks come from
the heap, and freed heap memory among live small objects stays resident: a worker measured
+150 MB after five such uploads, for good. A fixed threshold keeps every large buffer mmap'd,
so freeing it unmaps it at once; fewer arenas (a worker's threads share two) strand less.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
from functools import lru_cache

# mallopt(3) parameters (glibc's malloc.h).
M_TRIM_THRESHOLD = -1
M_MMAP_THRESHOLD = -3
M_ARENA_MAX = -8
# Buffers of at least this size are mmap'd: image pixels and their arrays (megabytes), not the
# interpreter's small objects (for which mmap would be slow).
MMAP_THRESHOLD_BYTES = 1 * 2**20
TRIM_THRESHOLD_BYTES = 8 * 2**20
ARENA_MAX = 2


@lru_cache(maxsize=1)
def _libc():
    name = ctypes.util.find_library("c")
    try:
        libc = ctypes.CDLL(name) if name else None
    except OSError:
        return None
    return libc if libc is not None and hasattr(libc, "mallopt") else None


def malloc_tuned() -> bool:
    """Large buffers mmap'd (a fixed threshold), the heap's top trimmed past 8 MB, two arenas.
    False where the C library is not glibc (nothing changed)."""
    libc = _libc()
    if libc is None:
        return False
    return all(
        libc.mallopt(parameter, value) == 1
        for parameter, value in (
            (M_MMAP_THRESHOLD, MMAP_THRESHOLD_BYTES),
            (M_TRIM_THRESHOLD, TRIM_THRESHOLD_BYTES),
            (M_ARENA_MAX, ARENA_MAX),
        )
    )


def memory_release() -> bool:
    """Return the heap's free memory to the system (glibc); False where that is unknown."""
    libc = _libc()
    if libc is None or not hasattr(libc, "malloc_trim"):
        return False
    libc.malloc_trim(0)
    return True


def resident_mib() -> float | None:
    """This process's resident memory (Linux: /proc/self/statm), None where unknown."""
    try:
        with open("/proc/self/statm") as statm:
            pages = int(statm.read().split()[1])
    except (OSError, IndexError, ValueError):
        return None
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


def over_bound(limit_mib: int) -> float | None:
    """The resident memory when it is over `limit_mib` (0: no bound), else None."""
    if limit_mib <= 0:
        return None
    resident = resident_mib()
    return resident if resident is not None and resident > limit_mib else None
