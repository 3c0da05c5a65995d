"""Jobs for the worker-memory test (run by a real ``rq worker``; not a test module)."""

from __future__ import annotations

from pathlib import Path

MIB = 1024 * 1024
_KEPT: list[bytes] = []  # what a job leaves behind on purpose (a cache entry made late in the job)


def rss() -> int:
    """This process's resident set size, in bytes (Linux)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError("no VmRSS")


def hold_in_a_cycle(mib: int) -> int:
    """Allocate ``mib`` MiB in 1 KiB pieces (glibc's heap, as a large poll's records are), held by a
    reference cycle, then keep one small object allocated after them; returns the RSS at the peak.

    When the job returns, the pieces are garbage but only a full collection frees them (the cycle), and
    only ``malloc_trim`` gives their pages back (the kept object pins the top of the heap)."""
    box: dict[str, object] = {"pieces": [bytes([i % 251]) * 1024 for i in range(mib * 1024)]}
    box["self"] = box
    _KEPT.append(b"k" * 1024)
    return rss()
