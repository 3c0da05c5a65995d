"""Fault modes: how a simulator misbehaves when asked to (``--faults``, ``POST /_control/faults``).

- ``slow``: answers only after a delay longer than a poll's timeout;
- ``error500``: HTTP 500 with an HTML error page;
- ``malformed``: a truncated document (broken XML / JSON) with status 200;
- ``repeat``: every record twice in the same answer;
- ``out_of_order``: records shuffled, and stale versions of some records after their newer ones;
- ``random``: each answer draws one of the above now and then (about one answer in three).
"""

from __future__ import annotations

import random
import threading

MODES = ("none", "slow", "error500", "malformed", "repeat", "out_of_order")
FAULTS = MODES[1:]
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
        if mode not in (*MODES, RANDOM):
            raise ValueError(f"{name}: unknown fault mode {mode!r} (one of {', '.join((*MODES, RANDOM))})")
        if name in ("all", "*"):
            modes.update(dict.fromkeys(names, mode))
        elif name in names:
            modes[name] = mode
        else:
            raise ValueError(f"unknown simulator {name!r} (one of {', '.join(names)})")
    return modes


class FaultSwitch:
    """One simulator's mode, switched at run time from any thread."""

    def __init__(self, mode: str = "none", rng: random.Random | None = None) -> None:
        self._lock = threading.Lock()
        self._mode = "none"
        self._rng = rng or random.Random()
        self.set(mode)

    @property
    def mode(self) -> str:
        with self._lock:
            return self._mode

    def set(self, mode: str) -> None:
        if mode not in (*MODES, RANDOM):
            raise ValueError(f"unknown fault mode {mode!r}")
        with self._lock:
            self._mode = mode

    def draw(self) -> str:
        """The mode of the answer being made now."""
        with self._lock:
            if self._mode != RANDOM:
                return self._mode
            return self._rng.choice(FAULTS) if self._rng.random() < P_RANDOM_FAULT else "none"


def malformed(body: bytes) -> bytes:
    """Cut a document short (the closing of its root is always lost) and add junk."""
    return body[: max(1, len(body) * 6 // 10)] + b"<<\xff junk"
