"""The RQ worker gridcc runs: RQ's ``SimpleWorker`` that gives memory back after every job.

Jobs run in the worker's own process (no fork per job, so the per-process runtime is built once). A
big poll — up to the poll budget of pages, parsed records and ORM objects — leaves the process's heap
grown: CPython frees the objects, but reference cycles wait for the next full collection and glibc
keeps freed memory in its arenas. After each job :class:`GridccWorker` runs a full ``gc.collect()`` and
glibc's ``malloc_trim(0)``, which hands the free pages back to the system, so a worker that once held
a large poll goes back to its resting size instead of keeping its peak for good.

The ``httpx`` logger (it logs each request's URL at INFO) gets a filter that redacts keys from them
(:func:`workers.feeds.outbound.redact_library_logs`; every feed client installs it too).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import gc
from collections.abc import Callable
from typing import Any

from rq.job import Job
from rq.queue import Queue
from rq.worker import SimpleWorker

from .feeds.outbound import redact_library_logs

_TRIM: Callable[[int], int] | None = None
_TRIM_LOOKED_UP = False


def _malloc_trim() -> Callable[[int], int] | None:
    """glibc's ``malloc_trim``, or ``None`` on a C library without it (musl, macOS)."""
    global _TRIM, _TRIM_LOOKED_UP
    if not _TRIM_LOOKED_UP:
        _TRIM_LOOKED_UP = True
        try:
            libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
            _TRIM = libc.malloc_trim
        except (OSError, AttributeError):
            _TRIM = None
    return _TRIM


def release_memory() -> None:
    """Collect every generation, then return the C heap's free pages to the system."""
    gc.collect()
    trim = _malloc_trim()
    if trim is not None:
        trim(0)


class GridccWorker(SimpleWorker):
    """``SimpleWorker`` that releases memory after each job (see the module's text)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        redact_library_logs()

    def execute_job(self, job: Job, queue: Queue) -> None:
        try:
            super().execute_job(job, queue)
        finally:
            release_memory()
