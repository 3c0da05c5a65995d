"""Fault modes: how a simulator misbehaves when asked to (``--faults``, ``POST /_control/faults``).

- ``slow``: answers only after a delay longer than a poll's timeout;
- ``error500``: HTTP 500 with an HTML error page;
- ``malformed``: a truncated document (broken XML / JSON) with status 200;
- ``repeat``: every record twice in the same answer;
- ``out_of_order``: records shuffled, and stale versions of some records after their newer ones;
- ``refuse``: the connection is dropped without an answer (never drawn by ``random``);
- ``random``: each answer draws one of the above now and then (about one answer in three).

A mode may last a while only: ``mode:SECONDS`` (``police=refuse:120``) switches back to ``none``
after that many seconds. The modes apply to a department's instruction desk too
(``simulators.desk``: ``refuse``, ``slow`` — a time-out — and ``error500``).
"""

from __future__ import annotations

import random
import threading
import time

MODES = ("none", "slow", "error500", "malformed", "repeat", "out_of_order", "refuse")
FAULTS = ("slow", "error500", "malformed", "repeat", "out_of_order")  # what ``random`` draws
RANDOM = "random"
P_RANDOM_FAULT = 0.35


def parse_faults(text: str | None, names: list[str]) -> dict[str, str]:
    """``""``/``random`` → every simulator random; ``name=mode[,name=mode]`` (``all=`` or ``*=`` for
    every simulator) → those modes, the rest none. Raises ValueError naming what is wrong."""
    if text is None:
        return {}
    text = text.strip()
    if text in ("", RANDOM):
        return dict.fromkeys(names, RANDOM)
    modes: dict[str, str] = {}
    for part in text.split(","):
        name, sep, mode = part.partition("=")
        name, mode = name.strip(), mode.strip()
        if not sep or not name:
            raise ValueError(f"expected name=mode, got {part.strip()!r}")
        split_mode(mode, name)
        if name in ("all", "*"):
            modes.update(dict.fromkeys(names, mode))
        elif name in names:
            modes[name] = mode
        else:
            raise ValueError(f"unknown simulator {name!r} (one of {', '.join(names)})")
    return modes


def split_mode(text: str, name: str = "") -> tuple[str, float | None]:
    """``mode`` or ``mode:SECONDS`` → (mode, seconds or None); ValueError naming what is wrong."""
    mode, sep, seconds = text.partition(":")
    mode = mode.strip()
    where = f"{name}: " if name else ""
    if mode not in (*MODES, RANDOM):
        raise ValueError(f"{where}unknown fault mode {mode!r} (one of {', '.join((*MODES, RANDOM))})")
    if not sep:
        return mode, None
    try:
        value = float(seconds)
    except ValueError:
        value = -1.0
    if value <= 0:
        raise ValueError(f"{where}{text!r}: the seconds after ':' must be a positive number")
    return mode, value


class FaultSwitch:
    """One simulator's mode, switched at run time from any thread."""

    def __init__(self, mode: str = "none", rng: random.Random | None = None) -> None:
        self._lock = threading.Lock()
        self._mode = "none"
        self._until = float("inf")
        self._rng = rng or random.Random()
        self.set(mode)

    @property
    def mode(self) -> str:
        with self._lock:
            return self._mode if time.monotonic() < self._until else "none"

    def set(self, mode: str) -> None:
        """Switch to ``mode`` (or ``mode:SECONDS``, for that long)."""
        name, seconds = split_mode(mode)
        with self._lock:
            self._mode = name
            self._until = float("inf") if seconds is None else time.monotonic() + seconds

    def draw(self) -> str:
        """The mode of the answer being made now."""
        mode = self.mode
        with self._lock:
            if mode != RANDOM:
                return mode
            return self._rng.choice(FAULTS) if self._rng.random() < P_RANDOM_FAULT else "none"


def malformed(body: bytes) -> bytes:
    """Cut a document short (the closing of its root is always lost) and add junk."""
    return body[: max(1, len(body) * 6 // 10)] + b"<<\xff junk"
